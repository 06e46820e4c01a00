/** A byte count as KiB with one decimal, as flexq's reports print sizes. */
export const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
