//! Canned replies between two administrators, one of whom is removed (PROTOCOL.md §18): the
//! team key's first epoch is shared by both, the removal opens a new epoch wrapped for the
//! remaining administrator only, and the removed administrator, who kept its keys and gets
//! the new snippets' bytes from a colluding server, cannot read what is written afterwards.
//! Its own snippets stop verifying; an administrator added later receives the keys as history.

// Test and tool code: a failed expectation stops the run, so it may unwrap, expect and
// panic (the workspace denies these in library code: Cargo.toml, clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64ct::{Base64UrlUnpadded, Encoding};
use sealdesk_client::admin::Admin;
use sealdesk_client::snippets::CannedReply;
use sealdesk_client::transport::{NativeTransport, Request, Transport};
use sealdesk_crypto::{Snippet, SnippetContent, SnippetId, system_rng};
use sealdesk_system_tests::{Instance, add_administrator, first_admin, runtime};
use serde_json::Value;

fn content(title: &str, body: &str) -> SnippetContent {
    SnippetContent {
        title: title.into(),
        body: body.into(),
    }
}

fn hex(id: &SnippetId) -> String {
    id.0.iter().map(|b| format!("{b:02x}")).collect()
}

fn find<'a>(replies: &'a [CannedReply], id: &SnippetId) -> &'a CannedReply {
    replies.iter().find(|r| r.id == *id).expect("listed")
}

/// The encoded snippet `id` as the server stores it (read with an administrator's session, as
/// a colluding server would hand it to anyone).
async fn raw_snippet(transport: &NativeTransport, session: &str, id: &SnippetId) -> Snippet {
    let answer: Value = transport
        .send(Request::get("/api/v1/admin/snippets").bearer(Some(session)))
        .await
        .expect("list")
        .json("snippets")
        .expect("json");
    let item = answer["snippets"]
        .as_array()
        .expect("snippets")
        .iter()
        .find(|s| s["id"] == hex(id))
        .expect("stored");
    let bytes =
        Base64UrlUnpadded::decode_vec(item["snippet"].as_str().expect("text")).expect("b64");
    Snippet::from_bytes(&bytes).expect("decodes")
}

#[test]
fn a_removed_administrator_cannot_read_canned_replies_written_after_its_removal() {
    let server = Instance::start();
    runtime().block_on(async {
        let transport = NativeTransport::new(&server.base);
        let mut rng = system_rng();
        let mut root = first_admin(&transport).await;
        let bob_account = add_administrator(&transport, &mut root, "bob", &mut rng).await;
        let bob_key = bob_account.identity().key_id();
        let bob_session = bob_account.session().to_owned();
        let mut bob = Admin::new(&transport, bob_account, None)
            .await
            .expect("bob signs in");

        // Root writes the first canned reply: epoch 0, wrapped for both.
        let welcome = root
            .save_canned_reply(
                &transport,
                None,
                &content("Welcome", "Hello {reporter_name}"),
                &mut rng,
            )
            .await
            .expect("save");
        // Bob reads it and writes one of his own in the same epoch.
        let replies = bob.canned_replies(&transport).await.expect("list");
        assert_eq!(
            find(&replies, &welcome).content,
            Ok(content("Welcome", "Hello {reporter_name}"))
        );
        let by_bob = bob
            .save_canned_reply(&transport, None, &content("Bob's", "From Bob"), &mut rng)
            .await
            .expect("bob saves");
        let bob_keys = bob.team_keys(&transport).await.expect("bob's keys");
        assert_eq!(bob_keys.epochs(), vec![0]);
        assert_eq!(bob_keys.writable_epoch(), Some(0));
        let replies = root.canned_replies(&transport).await.expect("list");
        assert_eq!(
            find(&replies, &by_bob).content,
            Ok(content("Bob's", "From Bob"))
        );

        // Root removes Bob: the team key rotates to epoch 1, for root only.
        let removal = root
            .remove(&transport, &bob_key, &mut rng)
            .await
            .expect("remove");
        assert_eq!(removal.team_key_failure, None);
        let root_keys = root.team_keys(&transport).await.expect("keys");
        assert_eq!(root_keys.epochs(), vec![0, 1]);
        assert_eq!(root_keys.writable_epoch(), Some(1));
        let listing: Value = transport
            .send(Request::get("/api/v1/admin/team-keys").bearer(Some(root.account().session())))
            .await
            .expect("listing")
            .json("team keys")
            .expect("json");
        assert_eq!(listing["epochs"][1]["epoch"], 1);
        assert_eq!(
            listing["epochs"][1]["recipients"],
            serde_json::json!([Base64UrlUnpadded::encode_string(
                &root.account().identity().key_id().0
            )])
        );

        // New and edited canned replies go under epoch 1.
        let after = root
            .save_canned_reply(
                &transport,
                None,
                &content("After", "Written after Bob left"),
                &mut rng,
            )
            .await
            .expect("save after");
        root.save_canned_reply(
            &transport,
            Some(welcome),
            &content("Welcome", "Hello again {reporter_name}"),
            &mut rng,
        )
        .await
        .expect("edit");
        let replies = root.canned_replies(&transport).await.expect("list");
        assert_eq!(
            find(&replies, &after).content,
            Ok(content("After", "Written after Bob left"))
        );
        // Bob's own snippet no longer verifies: he is not an administrator at the head.
        assert_eq!(
            find(&replies, &by_bob)
                .content
                .as_ref()
                .map_err(|e| e.code.as_str()),
            Err("snippet.not_a_member")
        );

        // Bob is refused by the server, and with the bytes from a colluding server his keys
        // open neither the new snippet nor the new version of the old one.
        let refused = transport
            .send(Request::get("/api/v1/admin/snippets").bearer(Some(&bob_session)))
            .await
            .expect("request");
        assert_eq!(refused.status, 403);
        for id in [after, welcome] {
            let snippet = raw_snippet(&transport, root.account().session(), &id).await;
            assert_eq!(snippet.header.epoch, 1);
            assert!(bob_keys.key(1).is_none());
            let old_key = bob_keys.key(0).expect("Bob kept epoch 0");
            assert_eq!(
                snippet.open(old_key),
                Err(sealdesk_crypto::Error::DecryptionFailed)
            );
        }

        // Carol, added later, receives both epochs as history at root's next write.
        let carol_account = add_administrator(&transport, &mut root, "carol", &mut rng).await;
        let mut carol = Admin::new(&transport, carol_account, None)
            .await
            .expect("carol signs in");
        root.save_canned_reply(&transport, None, &content("Third", "x"), &mut rng)
            .await
            .expect("save");
        let carol_keys = carol.team_keys(&transport).await.expect("keys");
        assert_eq!(carol_keys.epochs(), vec![0, 1]);
        let replies = carol.canned_replies(&transport).await.expect("list");
        assert_eq!(
            find(&replies, &after).content,
            Ok(content("After", "Written after Bob left"))
        );
        assert_eq!(
            find(&replies, &welcome).content,
            Ok(content("Welcome", "Hello again {reporter_name}"))
        );
    });
    server.kill_and_check();
}
