// Removing metadata from JPEG and PNG images before they are encrypted: the location, the
// camera, the time, comments and editing history that a photo carries besides its pixels.
// Only the container is rewritten (segments and chunks are dropped or kept byte for byte), never
// the image data, so nothing is re-encoded and no quality is lost. What the image needs to
// display is kept: in JPEG the JFIF header, the ICC colour profile, the Adobe colour transform,
// the tables and the scans; in PNG every chunk but the text, time and Exif ones. The EXIF
// orientation alone is carried over, in a minimal Exif block, so that a portrait photo does
// not turn on its side. No DOM: the browser suite also runs it in Node over sample files.

/**
 * The result of cleaning one image.
 * @typedef {object} Cleaned
 * @property {"jpeg" | "png"} format
 * @property {Uint8Array} bytes the image without its metadata
 * @property {string[]} found what the image held, in words ("location", "camera details", …), each once
 * @property {number} orientation the EXIF orientation kept (1 to 8; 1 when there was none)
 */

/** A file that is not a JPEG or PNG image this parser can read. */
export class ImageFormatError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "ImageFormatError";
    this.code = "file.unreadable_image";
  }
}

/**
 * The image format from the first bytes: "jpeg", "png" or null (anything else).
 * @param {Uint8Array} bytes
 * @returns {"jpeg" | "png" | null}
 */
export function imageFormat(bytes) {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return "png";
  return null;
}

/**
 * Removes the metadata of a JPEG or PNG image (see the top of this file).
 * @param {Uint8Array} bytes the file
 * @returns {Cleaned | null} null when the file is neither a JPEG nor a PNG
 * @throws {ImageFormatError} when it starts like one but its structure cannot be read
 *   (truncated, a length past the end): nothing is removed then, and the caller decides
 */
export function removeMetadata(bytes) {
  const format = imageFormat(bytes);
  if (format === "jpeg") return cleanJpeg(bytes);
  if (format === "png") return cleanPng(bytes);
  return null;
}

// ---------------------------------------------------------------- JPEG (ITU T.81, JFIF, Exif 2.32)

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const COM = 0xfe;
const APP0 = 0xe0;
const APP1 = 0xe1;
const APP2 = 0xe2;
const APP13 = 0xed;
const APP14 = 0xee;

const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]; // "Exif\0\0"
const ICC_HEADER = ascii("ICC_PROFILE\0");
const XMP_HEADERS = [ascii("http://ns.adobe.com/xap/1.0/\0"), ascii("http://ns.adobe.com/xmp/extension/\0")];

/**
 * @param {Uint8Array} bytes
 * @returns {Cleaned}
 */
function cleanJpeg(bytes) {
  /** @type {Uint8Array[]} */
  const out = [bytes.subarray(0, 2)];
  const found = new Set();
  let orientation = 1;
  let exifWritten = false;
  let pos = 2;
  for (;;) {
    // Markers may be preceded by fill bytes 0xFF (T.81 B.1.1.2).
    if (pos >= bytes.length || bytes[pos] !== 0xff) throw new ImageFormatError("This JPEG file is damaged: a marker was expected.");
    while (pos < bytes.length && bytes[pos] === 0xff) pos += 1;
    if (pos >= bytes.length) throw new ImageFormatError("This JPEG file ends before its end marker.");
    const marker = bytes[pos];
    const start = pos - 1;
    pos += 1;
    if (marker === EOI) {
      out.push(bytes.subarray(start, pos));
      // Anything after the end marker (phone makers' trailers, second images) is dropped.
      if (pos < bytes.length) found.add("data after the image");
      break;
    }
    if (marker === SOI || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      // Markers without a length: TEM, RSTn (outside a scan, harmless) and a stray SOI.
      if (marker === SOI) throw new ImageFormatError("This JPEG file is damaged: a second start marker.");
      out.push(bytes.subarray(start, pos));
      continue;
    }
    if (pos + 2 > bytes.length) throw new ImageFormatError("This JPEG file ends inside a segment.");
    const length = (bytes[pos] << 8) | bytes[pos + 1];
    if (length < 2 || pos + length > bytes.length) throw new ImageFormatError("This JPEG file is damaged: a segment runs past its end.");
    const payload = bytes.subarray(pos + 2, pos + length);
    const segment = bytes.subarray(start, pos + length);
    pos += length;

    if (marker === SOS) {
      // The scan's entropy-coded data runs to the next marker that is not a stuffed 0xFF00
      // or a restart marker; it is copied as it is.
      let end = pos;
      while (end + 1 < bytes.length && !(bytes[end] === 0xff && bytes[end + 1] !== 0x00 && !(bytes[end + 1] >= 0xd0 && bytes[end + 1] <= 0xd7))) end += 1;
      if (end + 1 >= bytes.length) throw new ImageFormatError("This JPEG file ends inside its image data.");
      out.push(segment, bytes.subarray(pos, end));
      pos = end;
      continue;
    }
    if (marker === APP1 && startsWith(payload, EXIF_HEADER)) {
      const exif = readExif(payload.subarray(EXIF_HEADER.length));
      for (const what of exif.found) found.add(what);
      if (exif.orientation !== 1) orientation = exif.orientation;
      if (!exifWritten && orientation !== 1) {
        out.push(jpegSegment(APP1, [...EXIF_HEADER, ...orientationTiff(orientation)]));
        exifWritten = true;
      }
      continue;
    }
    if (marker === APP1) {
      found.add(XMP_HEADERS.some((h) => startsWith(payload, h)) ? "XMP data (editing history, often location and camera)" : "other embedded data");
      continue;
    }
    if (marker === APP13) {
      found.add("IPTC data (captions, names, places)");
      continue;
    }
    if (marker === COM) {
      found.add("comments");
      continue;
    }
    const keep =
      marker === APP0 || // JFIF: the pixel density the image is shown with
      (marker === APP2 && startsWith(payload, ICC_HEADER)) || // the colour profile
      marker === APP14 || // Adobe: the colour transform of CMYK and YCCK images
      marker < 0xe0 || // the frame, tables, restart interval: the image itself
      (marker >= 0xf0 && marker <= 0xfd); // JPG extensions (JPEG-LS, …)
    if (keep) out.push(segment);
    else found.add("other embedded data");
  }
  return { format: "jpeg", bytes: concat(out), found: ordered(found), orientation };
}

/**
 * A JPEG marker segment: FF, marker, 2-byte length (counting itself), payload.
 * @param {number} marker
 * @param {number[]} payload
 */
function jpegSegment(marker, payload) {
  const length = payload.length + 2;
  return Uint8Array.from([0xff, marker, length >> 8, length & 0xff, ...payload]);
}

// ---------------------------------------------------------------- Exif (TIFF 6.0 structure)

const TAG_ORIENTATION = 0x0112;
const TAG_MAKE = 0x010f;
const TAG_MODEL = 0x0110;
const TAG_DATE_TIME = 0x0132;
const TAG_ARTIST = 0x013b;
const TAG_COPYRIGHT = 0x8298;
const TAG_EXIF_IFD = 0x8769;
const TAG_GPS_IFD = 0x8825;
const SHORT = 3;

/**
 * What an Exif block (a TIFF structure) holds, in words, and its orientation. A block that
 * cannot be read counts as "camera details" with orientation 1: it is dropped either way.
 * @param {Uint8Array} tiff
 * @returns {{found: string[], orientation: number}}
 */
export function readExif(tiff) {
  const found = new Set();
  let orientation = 1;
  try {
    const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
    const order = view.getUint16(0);
    if (order !== 0x4949 && order !== 0x4d4d) throw new RangeError("byte order");
    const little = order === 0x4949;
    if (view.getUint16(2, little) !== 42) throw new RangeError("magic");
    const ifd = view.getUint32(4, little);
    const count = view.getUint16(ifd, little);
    for (let i = 0; i < count; i += 1) {
      const entry = ifd + 2 + 12 * i;
      const tag = view.getUint16(entry, little);
      const type = view.getUint16(entry + 2, little);
      if (tag === TAG_ORIENTATION && type === SHORT) {
        const value = view.getUint16(entry + 8, little);
        if (value >= 1 && value <= 8) orientation = value;
      } else if (tag === TAG_GPS_IFD) found.add("location");
      else if (tag === TAG_MAKE || tag === TAG_MODEL || tag === TAG_EXIF_IFD) found.add("camera details");
      else if (tag === TAG_DATE_TIME) found.add("date and time");
      else if (tag === TAG_ARTIST || tag === TAG_COPYRIGHT) found.add("names");
      else found.add("other Exif data");
    }
  } catch {
    found.add("camera details");
  }
  return { found: [...found], orientation };
}

/**
 * A minimal big-endian TIFF structure with one IFD holding only the orientation (one SHORT).
 * @param {number} orientation 1 to 8
 * @returns {number[]}
 */
export function orientationTiff(orientation) {
  return [
    0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, // "MM", 42, IFD0 at offset 8
    0x00, 0x01, // one entry
    0x01, 0x12, 0x00, SHORT, 0x00, 0x00, 0x00, 0x01, 0x00, orientation, 0x00, 0x00, // orientation
    0x00, 0x00, 0x00, 0x00, // no next IFD
  ];
}

// ---------------------------------------------------------------- PNG (PNG 3rd edition)

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Chunk types dropped, with what they hold in words. */
const PNG_DROPPED = {
  tEXt: "text (author, comments, software)",
  zTXt: "text (author, comments, software)",
  iTXt: "text (author, comments, XMP)",
  tIME: "date and time",
};

/**
 * @param {Uint8Array} bytes
 * @returns {Cleaned}
 */
function cleanPng(bytes) {
  /** @type {Uint8Array[]} */
  const out = [bytes.subarray(0, 8)];
  const found = new Set();
  let orientation = 1;
  /** @type {Uint8Array | null} */
  let exifChunk = null;
  let pos = 8;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (;;) {
    if (pos + 12 > bytes.length) throw new ImageFormatError("This PNG file ends before its end chunk.");
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    const end = pos + 12 + length;
    if (length > 0x7fffffff || end > bytes.length) throw new ImageFormatError("This PNG file is damaged: a chunk runs past its end.");
    const chunk = bytes.subarray(pos, end);
    pos = end;
    if (type === "eXIf") {
      const exif = readExif(chunk.subarray(8, 8 + length));
      for (const what of exif.found) found.add(what);
      if (exif.orientation !== 1) orientation = exif.orientation;
      continue;
    }
    if (Object.hasOwn(PNG_DROPPED, type)) {
      found.add(PNG_DROPPED[/** @type {keyof typeof PNG_DROPPED} */ (type)]);
      continue;
    }
    if (type === "IDAT" && orientation !== 1 && !exifChunk) {
      // eXIf must come before the image data: the orientation alone goes back there.
      exifChunk = pngChunk("eXIf", orientationTiff(orientation));
      out.push(exifChunk);
    }
    out.push(chunk);
    if (type === "IEND") {
      if (pos < bytes.length) found.add("data after the image");
      break;
    }
  }
  return { format: "png", bytes: concat(out), found: ordered(found), orientation };
}

/**
 * A PNG chunk: length, type, data, CRC-32 of type and data.
 * @param {string} type
 * @param {number[]} data
 */
function pngChunk(type, data) {
  const body = Uint8Array.from([...ascii(type), ...data]);
  const chunk = new Uint8Array(body.length + 8);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  chunk.set(body, 4);
  view.setUint32(4 + body.length, crc32(body));
  return chunk;
}

/** @type {Uint32Array | null} */
let crcTable = null;

/**
 * CRC-32 (ISO 3309, as PNG uses it).
 * @param {Uint8Array} bytes
 * @returns {number}
 */
export function crc32(bytes) {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n += 1) {
      let c = n;
      for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const b of bytes) crc = crcTable[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** What matters most to people first: where, which device, when, who. */
const FIRST = ["location", "camera details", "date and time", "names"];

/**
 * @param {Set<string>} found
 * @returns {string[]}
 */
function ordered(found) {
  const rank = (/** @type {string} */ what) => (FIRST.includes(what) ? FIRST.indexOf(what) : FIRST.length);
  return [...found].sort((a, b) => rank(a) - rank(b));
}

// ---------------------------------------------------------------- bytes

/** @param {string} text */
function ascii(text) {
  return Array.from(text, (c) => c.charCodeAt(0));
}

/**
 * @param {Uint8Array} bytes
 * @param {number[]} prefix
 */
function startsWith(bytes, prefix) {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

/** @param {Uint8Array[]} parts */
function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
