//! The data directory on disk: owner-only permissions at start, and a warning when they were
//! wider (issue 16, item 6). The restore side is `backup.rs`'s unit test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[cfg(unix)]
#[test]
fn serve_makes_the_data_directory_owner_only_and_warns() {
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    use common::Server;

    let root = tempfile::tempdir().expect("tempdir");
    let data = root.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("left-over"), b"x").unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        data.join("left-over"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();

    // With an invite: `DATA_DIR/invites/` and its file are ours, not sled's.
    let server = Server::options().dir(root.path()).log_to_file().start();
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let mut files = 0;
    let mut stack = vec![data.clone()];
    while let Some(dir) = stack.pop() {
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                assert_eq!(mode(&path), 0o600, "{}", path.display());
                files += 1;
            }
        }
    }
    assert!(
        files >= 3,
        "the database, the invite and the left-over file"
    );
    assert!(data.join("invites").is_dir());
    let log = server.stop();
    assert!(log.contains("readable by other users"), "{log}");
}
