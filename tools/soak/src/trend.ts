/**
 * Is a resource (RSS, open file descriptors) growing over the run? Restarts reset a process's
 * memory, so one slope over the whole run would mostly measure the restarts. Two views instead:
 *
 * 1. Within the steady epoch: the run's last stretch has no restarts (the final `steadyFraction` of
 *    it). After a warm-up (the larger of `warmupS` and a fifth of the epoch) a least-squares line is
 *    fitted to the samples (at least `minFitS` of them). Its 95% interval uses the residuals'
 *    standard error and Student's t with the effective sample size n·(1−ρ)/(1+ρ), ρ the residuals'
 *    lag-1 autocorrelation: consecutive samples of a process's memory are far from independent.
 * 2. Across epochs, at the same phase: for every epoch long enough, the median of its samples
 *    between `warmupS` and `warmupS + phaseWindowS` after its start; a least-squares line through
 *    those medians against the epochs' start times (needs 3 epochs; Student's t interval). This
 *    catches growth that survives restarts (state the server reloads at every start).
 *
 * The verdict is "growth of X/min" when either slope exceeds `floorPerMin` and its 95% interval
 * lies above zero; "no growth trend" when the views that have enough data show neither; and
 * "insufficient data" when neither view has enough (a short run).
 */

export interface Sample {
  /** Seconds since the run started. */
  t: number;
  /** Server generation (1 for the first start, +1 per restart): samples of one epoch share it. */
  epoch: number;
  value: number;
}

export interface TrendOptions {
  /** Unit of `value` in the verdict, e.g. `MiB`, `fds`. */
  unit: string;
  /** Slopes at or below this (units per minute) are no growth, whatever their interval. */
  floorPerMin: number;
  warmupS: number;
  /** Shortest fitted stretch (after warm-up) the steady view needs. */
  minFitS: number;
  minSamples: number;
  phaseWindowS: number;
}

export interface Fit {
  slopePerMin: number;
  /** Half-width of the slope's 95% interval, per minute. */
  ciPerMin: number;
  samples: number;
}

export interface SteadyView extends Fit {
  epoch: number;
  fromS: number;
  toS: number;
}

export interface AcrossView extends Fit {
  epochs: number;
  phase: [number, number];
  /** Per epoch: its start (s) and median value in the phase window. */
  medians: [number, number][];
}

export interface Trend {
  verdict: 'no growth trend' | 'growth' | 'insufficient data';
  /** One line with the numbers, e.g. `no growth trend (steady epoch: +0.20 ± 0.61 MiB/min over 8.0 min; …)`. */
  text: string;
  steady?: SteadyView;
  across?: AcrossView;
}

/** Least-squares slope of y on x, with its 95% interval; `autocorrelated` widens it for lag-1 correlation. */
export function fitLine(xs: readonly number[], ys: readonly number[], autocorrelated: boolean): { slope: number; ci: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i]! - mx) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
  }
  if (sxx === 0) return { slope: 0, ci: Infinity };
  const slope = sxy / sxx;
  const residuals = xs.map((x, i) => ys[i]! - (my + slope * (x - mx)));
  const sse = residuals.reduce((a, r) => a + r * r, 0);
  if (n <= 2) return { slope, ci: Infinity };
  let se = Math.sqrt(sse / (n - 2) / sxx);
  let df = n - 2;
  if (autocorrelated && sse > 0) {
    let lag = 0;
    for (let i = 1; i < n; i++) lag += residuals[i]! * residuals[i - 1]!;
    const rho = Math.min(0.99, Math.max(0, lag / sse));
    const nEff = Math.max(3, (n * (1 - rho)) / (1 + rho));
    se *= Math.sqrt((n - 2) / (nEff - 2));
    df = nEff - 2;
  }
  return { slope, ci: tQuantile975(df) * se };
}

/** Student's t 97.5% quantile (two-sided 95%) for `df` degrees of freedom, rounded down to a whole df. */
export function tQuantile975(df: number): number {
  const table = [
    12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.2, 2.18, 2.16, 2.14, 2.13, 2.12, 2.11, 2.1, 2.09, 2.09, 2.08, 2.07, 2.07, 2.06, 2.06, 2.06,
    2.05, 2.05, 2.05, 2.04,
  ];
  const whole = Math.max(1, Math.floor(df));
  return whole <= table.length ? table[whole - 1]! : 1.96;
}

/**
 * The trend of `samples` (in time order). `epochStarts` gives when each epoch's server came up (s);
 * an epoch missing there starts at its first sample.
 */
export function computeTrend(samples: readonly Sample[], epochStarts: ReadonlyMap<number, number>, options: TrendOptions): Trend {
  const byEpoch = new Map<number, Sample[]>();
  for (const s of samples) {
    const list = byEpoch.get(s.epoch);
    if (list) list.push(s);
    else byEpoch.set(s.epoch, [s]);
  }
  if (byEpoch.size === 0) return { verdict: 'insufficient data', text: 'insufficient data (no samples)' };
  const startOf = (epoch: number) => epochStarts.get(epoch) ?? byEpoch.get(epoch)![0]!.t;

  let steady: SteadyView | undefined;
  const lastEpoch = Math.max(...byEpoch.keys());
  const last = byEpoch.get(lastEpoch);
  if (last && last.length > 0) {
    const start = startOf(lastEpoch);
    const end = last[last.length - 1]!.t;
    const warmup = Math.max(options.warmupS, (end - start) / 5);
    const fitted = last.filter((s) => s.t >= start + warmup);
    if (fitted.length >= options.minSamples && fitted[fitted.length - 1]!.t - fitted[0]!.t >= options.minFitS) {
      const { slope, ci } = fitLine(
        fitted.map((s) => s.t / 60),
        fitted.map((s) => s.value),
        true,
      );
      steady = { epoch: lastEpoch, fromS: fitted[0]!.t, toS: fitted[fitted.length - 1]!.t, slopePerMin: slope, ciPerMin: ci, samples: fitted.length };
    }
  }

  let across: AcrossView | undefined;
  const phase: [number, number] = [options.warmupS, options.warmupS + options.phaseWindowS];
  const medians: [number, number][] = [];
  for (const [epoch, list] of [...byEpoch].sort((a, b) => a[0] - b[0])) {
    const start = startOf(epoch);
    const inPhase = list.filter((s) => s.t >= start + phase[0] && s.t <= start + phase[1]).map((s) => s.value);
    // Half the window's samples at least, so an epoch cut short by a restart does not count.
    const expected = list.length > 1 ? (phase[1] - phase[0]) / ((list[list.length - 1]!.t - list[0]!.t) / (list.length - 1)) : Infinity;
    if (inPhase.length >= Math.max(2, expected / 2)) medians.push([start, median(inPhase)]);
  }
  if (medians.length >= 3) {
    const { slope, ci } = fitLine(
      medians.map(([t]) => t / 60),
      medians.map(([, v]) => v),
      false,
    );
    across = { epochs: medians.length, phase, medians, slopePerMin: slope, ciPerMin: ci, samples: medians.length };
  }

  const grows = (fit: Fit | undefined) => fit !== undefined && fit.slopePerMin > options.floorPerMin && fit.slopePerMin - fit.ciPerMin > 0;
  const f = (x: number) => (Math.abs(x) >= 10 ? x.toFixed(0) : x.toFixed(2));
  const sign = (x: number) => (x >= 0 ? `+${f(x)}` : f(x));
  const parts: string[] = [];
  if (steady)
    parts.push(
      `steady epoch: ${sign(steady.slopePerMin)} ± ${f(steady.ciPerMin)} ${options.unit}/min over ${((steady.toS - steady.fromS) / 60).toFixed(1)} min`,
    );
  if (across)
    parts.push(
      `across ${across.epochs} epochs at ${phase[0]}–${phase[1]} s after start: ${sign(across.slopePerMin)} ± ${f(across.ciPerMin)} ${options.unit}/min`,
    );
  const detail = parts.length > 0 ? ` (${parts.join('; ')})` : '';
  if (!steady && !across)
    return { verdict: 'insufficient data', text: 'insufficient data (no restart-free stretch long enough after warm-up, fewer than 3 epochs)' };
  const growing = [steady, across].filter(grows);
  const result = { ...(steady ? { steady } : {}), ...(across ? { across } : {}) };
  if (growing.length > 0) {
    const worst = Math.max(...growing.map((g) => g!.slopePerMin));
    return { verdict: 'growth', text: `growth of ${f(worst)} ${options.unit}/min${detail}`, ...result };
  }
  return { verdict: 'no growth trend', text: `no growth trend${detail}`, ...result };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** How the verdict is computed, in one paragraph for results and docs. */
export const TREND_METHOD =
  'Restarts reset memory, so there is no slope over the whole run. (1) Steady epoch: the last part of the run has no restarts; ' +
  'after a warm-up (30 s or a fifth of the epoch, whichever is longer) a least-squares line is fitted to at least 2 minutes of ' +
  "samples, with a 95% interval from the residuals (Student's t, effective sample size reduced for their lag-1 autocorrelation). " +
  "(2) Across epochs: the median of each epoch's samples 30–60 s after its start, against the epochs' start times (least squares, " +
  'at least 3 epochs), which catches growth that survives restarts. Verdict "growth of X/min" when a slope exceeds the floor (RSS 1 MiB/min, fds 0.5/min) and its interval lies above zero; ' +
  '"no growth trend" otherwise; "insufficient data" when neither view has enough samples.';
