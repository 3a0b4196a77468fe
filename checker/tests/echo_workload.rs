//! Maelstrom's echo workload on real processes: a node written the way Maelstrom's demos
//! write one passes unchanged with default options; one that edits the payload fails with
//! a witness in words.

mod support;

#[test]
fn a_maelstrom_echo_node_passes_and_an_editing_one_fails_with_a_witness() {
    let _turn = support::take_turn();
    let echo = format!("python3 {}", support::fixture("maelstrom_echo.py"));
    let broken = format!("{echo} --broken");
    let short = vec!["--time-limit", "2"];
    let runs = vec![(echo, short.clone(), "1"), (broken, short, "1")];
    let results = support::sim_runs("echo", &runs);
    let (code, fine, _) = &results[0];
    assert_eq!(*code, 0, "{:?}", support::failed(fine));
    assert_eq!(support::check(fine, "echo")["valid"], true);
    let (code, broken, _) = &results[1];
    assert_eq!(*code, 1, "{:?}", support::failed(broken));
    let why = support::first_why(broken, "echo");
    assert!(
        why.contains("answered the echo of") && why.contains("(edited)"),
        "{why}"
    );
}
