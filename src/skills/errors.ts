/** Errors of the skills layer that callers branch on. */

/** A skill module cannot be loaded: import failure, missing export, Worker start failure. */
export class SkillLoadError extends Error {
  /** Name of the skill. */
  readonly skill: string;

  constructor(skill: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SkillLoadError";
    this.skill = skill;
  }
}

/** A skill's permissions would expose a protected path such as the node's key database. */
export class SkillPermissionError extends Error {
  /** Name of the skill. */
  readonly skill: string;

  constructor(skill: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SkillPermissionError";
    this.skill = skill;
  }
}

/** `run()` or `unload()` named a skill that is not loaded (wire code `UNKNOWN_SKILL`). */
export class UnknownSkillError extends Error {
  /** Name of the skill. */
  readonly skill: string;

  constructor(skill: string, options?: ErrorOptions) {
    super(`Cannot run skill "${skill}": no such skill is loaded`, options);
    this.name = "UnknownSkillError";
    this.skill = skill;
  }
}
