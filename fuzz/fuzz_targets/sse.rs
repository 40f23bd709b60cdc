//! The client's server-sent events parser (client-wasm/src/live.rs), fed by the server's event
//! stream: the same bytes cut at any two points give the same events, last event id and retry
//! delay as in one piece; reading the events' meaning never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealdesk_client::live::{Notice, SseParser};

fuzz_target!(|data: &[u8]| {
    let Some((cuts, stream)) = data.split_at_checked(2) else {
        return;
    };
    let mut whole = SseParser::new();
    let events = whole.push(stream);

    let first = usize::from(cuts[0]).min(stream.len());
    let second = (first + usize::from(cuts[1])).min(stream.len());
    let mut pieces = SseParser::new();
    let mut pieced = pieces.push(&stream[..first]);
    pieced.extend(pieces.push(&stream[first..second]));
    pieced.extend(pieces.push(&stream[second..]));

    assert_eq!(
        pieced, events,
        "events do not depend on how the stream is cut"
    );
    assert_eq!(pieces.last_event_id(), whole.last_event_id());
    assert_eq!(pieces.retry_ms(), whole.retry_ms());
    for event in &events {
        let _ = Notice::from_event(event);
    }
});
