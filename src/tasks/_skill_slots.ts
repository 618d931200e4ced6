/** A provider's capacity: runs per skill against its slots, and the one bounded queue. */
import type { ExecutableSkill } from "./types.ts";
import type { Queued } from "./_task_record.ts";

/** Runs under way per skill and the tasks waiting for a slot, per skill in arrival order. */
export class SkillSlots {
  #defaultSlots: number;
  #running = 0;
  #runningBySkill = new Map<string, number>();
  #queues = new Map<string, Queued[]>();
  #queued = 0;

  /** `defaultSlots`: the slots of a skill that does not report its own. */
  constructor(defaultSlots: number) {
    this.#defaultSlots = defaultSlots;
  }

  /** Runs under way, all skills together. */
  get running(): number {
    return this.#running;
  }

  /** Tasks waiting, all skills together. */
  get queued(): number {
    return this.#queued;
  }

  /** How many runs of `skill` may be under way at once. */
  slotsOf(skill: ExecutableSkill): number {
    return Math.max(1, skill.slots ?? this.#defaultSlots);
  }

  /** Whether every slot of `skill` is taken. */
  full(skill: ExecutableSkill): boolean {
    return (this.#runningBySkill.get(skill.name) ?? 0) >= this.slotsOf(skill);
  }

  /** Tasks of `name` waiting. */
  waiting(name: string): number {
    return this.#queues.get(name)?.length ?? 0;
  }

  /** Takes a slot of `name`. */
  start(name: string): void {
    this.#running++;
    this.#runningBySkill.set(name, (this.#runningBySkill.get(name) ?? 0) + 1);
  }

  /** Gives back a slot of `name`. */
  finish(name: string): void {
    this.#running--;
    const left = (this.#runningBySkill.get(name) ?? 1) - 1;
    if (left > 0) this.#runningBySkill.set(name, left);
    else this.#runningBySkill.delete(name);
  }

  /** Queues a job for its skill's next free slot; returns its position in that queue. */
  enqueue(job: Queued): number {
    let queue = this.#queues.get(job.skill.name);
    if (!queue) this.#queues.set(job.skill.name, queue = []);
    queue.push(job);
    this.#queued++;
    return queue.length;
  }

  /** Takes a waiting job out of its queue; false when it is no longer there. */
  remove(job: Queued): boolean {
    const queue = this.#queues.get(job.skill.name);
    const index = queue?.indexOf(job) ?? -1;
    if (index < 0) return false;
    queue!.splice(index, 1);
    this.#leave(job.skill.name, queue!);
    return true;
  }

  /** The next waiting job of `name` when a slot of its skill is free, out of the queue. */
  next(name: string): Queued | undefined {
    const queue = this.#queues.get(name);
    const head = queue?.[0];
    if (!head || this.full(head.skill)) return undefined;
    queue!.shift();
    this.#leave(name, queue!);
    return head;
  }

  /** Empties every queue; returns the jobs that were waiting. */
  clear(): Queued[] {
    const jobs = [...this.#queues.values()].flat();
    this.#queues.clear();
    this.#queued = 0;
    return jobs;
  }

  #leave(name: string, queue: Queued[]): void {
    this.#queued--;
    if (queue.length === 0) this.#queues.delete(name);
  }
}
