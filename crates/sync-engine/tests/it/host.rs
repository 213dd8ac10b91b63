//! The host example of the README runs, and prints what the two example exports differ by.

#[allow(dead_code)] // its `main`: the test calls `run`.
#[path = "../../examples/host.rs"]
mod example;

#[test]
fn the_host_example_prints_what_changed() {
    let mut out = Vec::new();
    example::run(&mut out).expect("the example runs");
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "previous.json: same, added, updated, removed = (0, 6, 0, 0)"
    );
    assert_eq!(
        lines[1],
        "current.json: same, added, updated, removed = (3, 2, 2, 1)"
    );
    assert!(
        lines.contains(
            &"  CT-2025-0002 nomEntreprise: Some(\"Garage Benali\") -> Some(\"Garage Benali & Fils\")"
        ),
        "{out}"
    );
    assert_eq!(lines.len(), 2 + 6, "{out}");
}
