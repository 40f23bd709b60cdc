// Removing metadata from images (web/js/lib/metadata.js), in two parts.
// In Node, over the sample files of fixtures/ (made by fixtures/make-fixtures.py from images
// Chromium encoded): what is removed and kept, byte for byte, and damaged files refused.
// In the browser: Chromium shows the original and the cleaned photo the same way up (so the
// orientation was read from real Exif and kept), and a photo with a GPS position chosen on the
// new-ticket form, then on the reply form (with its preview and the opt-out next to it),
// reaches the administrator without it: the administrator's browser decrypts and saves the
// attachment, and the saved bytes are checked. Unticking the opt-out sends the file as it is.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  Recorder,
  adminOpenTicket,
  joinAsFirstAdmin,
  launchBrowser,
  newPerson,
  startServer,
} from "./lib/harness.mjs";
import { ImageFormatError, crc32, imageFormat, orientationTiff, removeMetadata } from "../../web/js/lib/metadata.js";

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");
const read = (name) => new Uint8Array(fs.readFileSync(path.join(FIXTURES, name)));
const text = (bytes) => Buffer.from(bytes).toString("latin1");
/** Strings the sample files' metadata holds and no cleaned file may. */
const SECRETS = ["Sealdesk Test Phone", "Model GPS-1", "Secret", "Paris", "xmpmeta", "TRAILER", "2026:12:03", "Author"];

/** A JPEG's segments before its first scan: [marker, payload] pairs. */
function jpegSegments(bytes) {
  const out = [];
  let pos = 2;
  while (pos < bytes.length) {
    const marker = bytes[pos + 1];
    const length = (bytes[pos + 2] << 8) | bytes[pos + 3];
    out.push([marker, bytes.subarray(pos + 4, pos + 2 + length)]);
    if (marker === 0xda) break;
    pos += 2 + length;
  }
  return out;
}

describe("metadata removal (Node, sample files)", () => {
  test("a phone photo loses its Exif (GPS, camera, time), XMP, IPTC, comment and trailer; the orientation alone stays", () => {
    const original = read("photo-gps.jpg");
    for (const secret of SECRETS.filter((s) => s !== "Author")) assert.ok(text(original).includes(secret), `the sample holds ${secret}`);
    const cleaned = removeMetadata(original);
    assert.equal(cleaned.format, "jpeg");
    assert.equal(cleaned.orientation, 6);
    assert.deepEqual(new Set(cleaned.found), new Set([
      "location", "camera details", "date and time", "XMP data (editing history, often location and camera)",
      "IPTC data (captions, names, places)", "comments", "data after the image",
    ]));
    for (const secret of SECRETS) assert.ok(!text(cleaned.bytes).includes(secret), `${secret} is gone`);
    // Exactly the base image (JFIF, colour profile, tables, scan, end) with a minimal Exif
    // block after JFIF: nothing of the image itself changed.
    const base = read("base.jpg");
    const app0End = 4 + ((base[4] << 8) | base[5]);
    const exif = [0x45, 0x78, 0x69, 0x66, 0, 0, ...orientationTiff(6)];
    const expected = Buffer.concat([base.subarray(0, app0End), Buffer.from([0xff, 0xe1, 0, exif.length + 2, ...exif]), base.subarray(app0End)]);
    assert.deepEqual(Buffer.from(cleaned.bytes), expected);
    const markers = jpegSegments(cleaned.bytes).map(([m]) => m.toString(16));
    assert.deepEqual(markers.slice(0, 3), ["e0", "e1", "e2"], "JFIF, orientation, ICC profile");
  });

  test("a little-endian Exif block without orientation goes entirely; the result is the base image byte for byte", () => {
    const cleaned = removeMetadata(read("photo-gps-le.jpg"));
    assert.equal(cleaned.orientation, 1);
    assert.ok(cleaned.found.includes("location"));
    assert.deepEqual(Buffer.from(cleaned.bytes), Buffer.from(read("base.jpg")));
  });

  test("a PNG loses its tEXt, zTXt, iTXt, tIME and eXIf chunks; an orientation-only eXIf comes back before the image data", () => {
    const original = read("screenshot-text.png");
    const cleaned = removeMetadata(original);
    assert.equal(cleaned.format, "png");
    assert.equal(cleaned.orientation, 8);
    for (const secret of SECRETS) assert.ok(!text(cleaned.bytes).includes(secret), `${secret} is gone`);
    for (const chunk of ["tEXt", "zTXt", "iTXt", "tIME"]) assert.ok(!text(cleaned.bytes).includes(chunk), `${chunk} is gone`);
    const base = read("base.png");
    const ihdrEnd = 8 + 12 + new DataView(base.buffer, base.byteOffset).getUint32(8);
    const tiff = orientationTiff(8);
    const body = Buffer.from([...Buffer.from("eXIf"), ...tiff]);
    const chunk = Buffer.alloc(12 + tiff.length);
    chunk.writeUInt32BE(tiff.length, 0);
    body.copy(chunk, 4);
    chunk.writeUInt32BE(crc32(body), 8 + tiff.length);
    assert.deepEqual(Buffer.from(cleaned.bytes), Buffer.concat([base.subarray(0, ihdrEnd), chunk, base.subarray(ihdrEnd)]));
  });

  test("images without metadata come out unchanged", () => {
    for (const name of ["base.jpg", "base.png"]) {
      const cleaned = removeMetadata(read(name));
      assert.deepEqual(cleaned.found, [], name);
      assert.deepEqual(Buffer.from(cleaned.bytes), Buffer.from(read(name)), name);
    }
  });

  test("damaged images are refused with ImageFormatError; other files are not images", () => {
    const jpeg = read("photo-gps.jpg");
    const png = read("screenshot-text.png");
    for (const damaged of [jpeg.subarray(0, 40), jpeg.subarray(0, jpeg.length - 30), png.subarray(0, 60), png.subarray(0, png.length - 12)]) {
      assert.throws(() => removeMetadata(damaged), ImageFormatError);
    }
    const lying = Uint8Array.from(jpeg);
    lying[5] = 0xff; // the JFIF segment claims to run past the end
    assert.throws(() => removeMetadata(lying), ImageFormatError);
    assert.equal(removeMetadata(new TextEncoder().encode("GIF89a, or a text file")), null);
    assert.equal(imageFormat(Uint8Array.from([0xff, 0xd8])), null);
  });

  test("CRC-32 is PNG's (check value of ISO 3309)", () => {
    assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  });
});

// ---------------------------------------------------------------- in the browser

const ALICE = { username: "alice", password: "alice correct horse" };
let server;
let browser;
let recorder;
let alice;

describe("metadata removal (browser)", () => {
  before(async () => {
    server = await startServer();
    recorder = new Recorder(server.base);
    browser = await launchBrowser();
    const admin = await newPerson(browser, recorder, "alice");
    alice = await admin.newPage();
    await joinAsFirstAdmin(alice, server.invite, ALICE.username, ALICE.password);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** The attachment `name` of the open ticket, decrypted and saved by the panel. */
  async function adminSaves(name) {
    const card = alice.locator("#ticket-conversation .file-card", { hasText: name });
    await card.waitFor();
    const [download] = await Promise.all([alice.waitForEvent("download"), card.locator("button", { hasText: "Download" }).click()]);
    return new Uint8Array(fs.readFileSync(await download.path()));
  }

  test("Chromium shows the original and the cleaned photo the same way up (24 x 48: turned by the orientation)", async () => {
    const context = await newPerson(browser, recorder, "viewer");
    const page = await context.newPage();
    await page.goto("/help/ticket/new");
    const sizes = await page.evaluate(async ([original, cleaned]) => {
      const size = async (bytes) => {
        const img = new Image();
        img.src = URL.createObjectURL(new Blob([new Uint8Array(bytes)], { type: "image/jpeg" }));
        await img.decode();
        return [img.naturalWidth, img.naturalHeight];
      };
      return [await size(original), await size(cleaned)];
    }, [[...read("photo-gps.jpg")], [...removeMetadata(read("photo-gps.jpg")).bytes]]);
    assert.deepEqual(sizes, [[24, 48], [24, 48]]);
    await context.close();
  });

  test("a photo with GPS Exif is sent without it from the new-ticket form and from the reply form; unticked, it is sent as it is", async () => {
    const context = await newPerson(browser, recorder, "reporter");
    const page = await context.newPage();
    await page.goto("/help/ticket/new");
    const photo = { name: "holiday.jpg", mimeType: "image/jpeg", buffer: Buffer.from(read("photo-gps.jpg")) };
    await page.setInputFiles("#files", photo);
    const row = page.locator("#file-list li", { hasText: "holiday.jpg" });
    await row.locator("img.thumb").waitFor();
    assert.ok(await row.getByLabel("Remove location and camera data").isChecked(), "on by default");
    assert.match(await row.innerText(), /Removed before sending: location, camera details/);
    await page.fill("#subject", "Photo of the broken screen");
    await page.fill("#message", "See the photo.");
    await page.click("#send");
    await page.locator("#created", { hasText: "1 file attached." }).waitFor();

    await adminOpenTicket(alice, "Photo of the broken screen");
    const first = await adminSaves("holiday.jpg");
    const expected = removeMetadata(read("photo-gps.jpg")).bytes;
    assert.deepEqual(Buffer.from(first), Buffer.from(expected), "the administrator gets the cleaned photo");
    for (const secret of SECRETS) assert.ok(!text(first).includes(secret), `${secret} did not reach the administrator`);

    // The reply form: the same preview and choice; one PNG cleaned, one JPEG sent as it is.
    const link = await page.inputValue("#created .link-box input");
    await page.goto(link);
    const input = page.locator("#thread input[type=file]");
    await input.setInputFiles([
      { name: "screen.png", mimeType: "image/png", buffer: Buffer.from(read("screenshot-text.png")) },
      { name: "keep-exif.jpg", mimeType: "image/jpeg", buffer: Buffer.from(read("photo-gps-le.jpg")) },
    ]);
    const list = page.locator("#thread .file-list");
    await list.locator("li img.thumb").nth(1).waitFor();
    const keep = list.locator("li", { hasText: "keep-exif.jpg" });
    await keep.getByLabel("Remove location and camera data").uncheck();
    assert.match(await keep.innerText(), /Will be sent: location/);
    await page.locator("#thread .composer button[type=submit]").click();
    await page.locator("#thread .chat .file-card", { hasText: "keep-exif.jpg" }).waitFor();

    const png = await adminSaves("screen.png");
    assert.deepEqual(Buffer.from(png), Buffer.from(removeMetadata(read("screenshot-text.png")).bytes));
    const kept = await adminSaves("keep-exif.jpg");
    assert.deepEqual(Buffer.from(kept), Buffer.from(read("photo-gps-le.jpg")), "unticked: sent as chosen");
    await context.close();
  });

  test("no request went to another origin; no console error, exception or CSP violation", () => {
    assert.deepEqual(recorder.problems, []);
  });
});
