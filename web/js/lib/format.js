// Formatting of times and sizes for people.

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/**
 * A Unix time in seconds as a local date and time ("" for 0 or missing).
 * @param {number | undefined} seconds
 */
export function formatTime(seconds) {
  if (!seconds) return "";
  return dateTime.format(new Date(seconds * 1000));
}

/**
 * An ISO string for <time datetime>.
 * @param {number | undefined} seconds
 */
export function isoTime(seconds) {
  return seconds ? new Date(seconds * 1000).toISOString() : "";
}

/**
 * A byte count as "1.4 MB" ("" when not a number).
 * @param {number | undefined} bytes
 */
export function formatSize(bytes) {
  if (bytes === undefined || !Number.isFinite(bytes)) return "";
  const units = ["bytes", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  // Binary units; a value that would read 1000 or more moves to the next unit.
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/**
 * The first groups of a fingerprint, for compact labels.
 * @param {string | undefined} fingerprint
 */
export function shortFingerprint(fingerprint) {
  return String(fingerprint || "").split(" ").slice(0, 2).join(" ");
}

/**
 * "1 new answer" / "3 new answers".
 * @param {number} count
 * @param {string} one
 * @param {string} many
 */
export function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}
