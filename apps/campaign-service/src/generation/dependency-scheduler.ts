/** How one step of a dependency-ordered run ended. */
export type StepOutcome<Key> =
  | { status: 'succeeded' }
  | { status: 'failed'; error: unknown }
  /** Not run: a step it depends on failed or was skipped. */
  | { status: 'skipped'; because: Key };

export interface DependencyRunOptions {
  /** Steps running at once at most. Default: no limit beyond the dependencies. */
  concurrency?: number;
}

/**
 * Runs each step as soon as every step it depends on (among `steps`) has succeeded, so steps whose
 * prerequisites are ready run concurrently and a chain runs in order. A step whose prerequisite
 * failed is skipped, never run on a missing input; the others go on. Dependencies outside `steps`
 * are taken as ready. Resolves once every step has ended; never rejects.
 */
export async function runInDependencyOrder<Key>(
  steps: readonly Key[],
  dependenciesOf: (step: Key) => readonly Key[],
  run: (step: Key) => Promise<void>,
  options: DependencyRunOptions = {},
): Promise<Map<Key, StepOutcome<Key>>> {
  const outcomes = new Map<Key, StepOutcome<Key>>();
  const planned = new Set(steps);
  const waitingOn = new Map(steps.map((step) => [step, dependenciesOf(step).filter((dependency) => planned.has(dependency) && dependency !== step)]));
  const limit = options.concurrency ?? Number.POSITIVE_INFINITY;
  let running = 0;

  return new Promise((resolve) => {
    const started = new Set<Key>();
    const ready = () => steps.filter((step) => !outcomes.has(step) && !started.has(step) && waitingOn.get(step)!.every((dependency) => outcomes.get(dependency)?.status === 'succeeded'));

    const settle = () => {
      // Skips cascade: a step waiting on a failed or skipped one can never run.
      let changed = true;
      while (changed) {
        changed = false;
        for (const step of steps) {
          if (outcomes.has(step) || started.has(step)) continue;
          const blocker = waitingOn.get(step)!.find((dependency) => {
            const outcome = outcomes.get(dependency);
            return outcome !== undefined && outcome.status !== 'succeeded';
          });
          if (blocker !== undefined) {
            outcomes.set(step, { status: 'skipped', because: blocker });
            changed = true;
          }
        }
      }
      for (const step of ready()) {
        if (running >= limit) break;
        started.add(step);
        running += 1;
        Promise.resolve()
          .then(() => run(step))
          .then(
            () => finish(step, { status: 'succeeded' }),
            (error: unknown) => finish(step, { status: 'failed', error }),
          );
      }
      if (running === 0 && outcomes.size < steps.length) {
        // Nothing runs and nothing can start: the rest wait on each other (a cycle), so none can run.
        for (const step of steps) if (!outcomes.has(step)) outcomes.set(step, { status: 'skipped', because: waitingOn.get(step)![0]! });
      }
      if (outcomes.size === steps.length) resolve(outcomes);
    };

    const finish = (step: Key, outcome: StepOutcome<Key>) => {
      running -= 1;
      outcomes.set(step, outcome);
      settle();
    };

    settle();
  });
}
