/**
 * Exponential moving average with TensorBoard's debiasing, the smoothing MLflow and TensorBoard
 * users know: `weight` 0 returns the values as they are, 0.99 smooths heavily. The first points are
 * not pulled towards zero (the debias divides by 1 - weight^n). Points that are not finite (NaN,
 * ±Infinity, which mlpipe stores faithfully) stay as they are and do not enter the average.
 */
export function smoothSeries(values: readonly number[], weight: number): number[] {
  if (!(weight > 0)) return [...values];
  const w = Math.min(weight, 0.999);
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return v;
    last = last * w + (1 - w) * v;
    n++;
    return last / (1 - w ** n);
  });
}
