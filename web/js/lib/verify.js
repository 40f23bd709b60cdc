// The instance fingerprint (PROTOCOL.md §7.6) of the verified administrator directory and, on
// request ("Verify"), the fingerprints of its current administrators, so that a person can
// compare them with what the self-hoster publishes on their own site. A server that serves
// another directory shows another instance fingerprint.

import { h, replace } from "./dom.js";
import { loadHead, rememberHead } from "./heads.js";

/** @typedef {import("../../pkg/reporter/sealdesk_client.js").DirectoryView} DirectoryView */
/** @typedef {import("./wasm.js").PinnedHead} PinnedHead */
/** @typedef {{verifiedDirectory(pinnedHead?: PinnedHead | null): Promise<DirectoryView>}} Verifier */

/**
 * Verifies the directory (extending the head this browser keeps) and shows the instance
 * fingerprint in `container`, with a "Verify" disclosure listing the administrators' key
 * fingerprints. Shows nothing before the first administrator; says so when verification fails
 * (the page's own flows report the error in full).
 * @param {HTMLElement} container
 * @param {Promise<Verifier>} clientReady
 * @returns {Promise<DirectoryView | undefined>}
 */
export async function showInstance(container, clientReady) {
  /** @type {DirectoryView} */
  let view;
  try {
    const client = await clientReady;
    view = await client.verifiedDirectory(await loadHead());
  } catch (error) {
    const code = error && /** @type {{code?: string}} */ (error).code;
    if (code === "directory.empty") container.replaceChildren();
    else replace(container, h("p", { class: "small field-error", text: "The administrators' keys could not be verified." }));
    return undefined;
  }
  await rememberHead({ pinnedHead: () => view.head, setPinnedHead: () => {} });
  replace(
    container,
    h(
      "p",
      { class: "small" },
      "Instance fingerprint: ",
      h("span", { class: "fingerprint", id: "instance-fingerprint", text: view.instance_fingerprint }),
    ),
    h(
      "details",
      { class: "verify" },
      h("summary", { text: "Verify" }),
      h("p", {
        class: "small",
        text: "Compare the instance fingerprint with the one your organisation publishes. These are the keys your messages are encrypted to, one per administrator:",
      }),
      h(
        "ul",
        { class: "small", id: "administrator-fingerprints" },
        view.administrators.map((admin) => h("li", { class: "fingerprint", text: admin.fingerprint })),
      ),
    ),
  );
  return view;
}
