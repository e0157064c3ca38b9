//! Regressions found by the exploratory conformance cases
//! (tests/conformance-cases/), each checked against the official CLI.

mod common;

use common::Scene;

#[tokio::test(flavor = "multi_thread")]
async fn version_flag_after_a_command_prints_the_version() {
    let s = Scene::new().await;
    for args in [
        &["deploy", "--version"][..],
        &["deployment", "token", "create", "--version"],
        &["--help", "--version"],
        &["logout", "--bogus", "-V"],
        &["--version", "extra"],
    ] {
        s.cmd(args).assert().code(0).stdout("1.48.0\n");
    }
    // After `--` it is an ordinary argument.
    s.cmd(&["dev", "--", "--version"]).assert().code(1).stdout("");
    // No request went out.
    assert!(s.requests().await.is_empty());
}
