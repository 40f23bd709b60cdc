// A module worker that solves the proof of work of an anonymous ticket (spec/API.md, "Proof of
// work": about 2^bits SHA-256 hashes) with the reporter's module, off the page's thread: it asks
// the server for a challenge and answers `{result: {challenge, nonce}}`, or `{result: null}`
// when the instance asks for none (lib/background.js). The page hands the answer to
// createTicket.

import init, { proofOfWork } from "../../pkg/reporter/sealdesk_client.js";
import { answerRequests } from "../lib/background.js";

const ready = init();

answerRequests(async () => {
  await ready;
  return proofOfWork();
});
