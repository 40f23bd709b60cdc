// Live updates: a server-sent event stream (read by the module with fetch), answered by a
// refresh that reads and verifies; without a stream, polling every 6 seconds (the module's
// Poller keeps the schedule). Returns a stop function.

export function follow({ client, subscribe, unsubscribe, update, onError }) {
  const poller = new client.Poller();
  let stopped = false;
  let running = null;
  let again = false;
  let retry = null;

  async function run() {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      try {
        await update();
      } catch (error) {
        if (onError) onError(error);
      } finally {
        // The update may have stopped following (a verification failure): the poller is freed.
        if (!stopped) poller.polled(Date.now());
      }
    })();
    await running;
    running = null;
    if (again && !stopped) {
      again = false;
      run();
    }
  }

  function connect() {
    if (stopped) return;
    let ended = false;
    subscribe((event) => {
      if (stopped) return;
      if (event && event.event === "ready") poller.streamUp();
      run();
    })
      .then(() => {
        ended = true;
      })
      .catch(() => {})
      .finally(() => {
        if (stopped) return;
        // A read is due at once either way, so nothing is missed in between.
        poller.streamDown();
        // The server ended the stream (its maximum lifetime or a re-check, spec/API.md "Live
        // updates"): subscribe again soon, which a lapsed credential then fails. After a
        // failure, wait longer.
        retry = setTimeout(connect, ended ? 1_000 : 30_000);
      });
  }

  connect();
  const timer = setInterval(() => {
    if (!stopped && poller.isDue(Date.now())) run();
  }, 1000);

  return function stop() {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    clearTimeout(retry);
    try {
      unsubscribe();
    } catch {
      // already ended
    }
    // Free the schedule once no update uses it any more.
    Promise.resolve(running).finally(() => poller.free());
  };
}
