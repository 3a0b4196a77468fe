//! Review test: [`read`](super::read) against the reference it must equal, each line
//! parsed by serde_json into [`Line`](super::Line) as eddy read histories before the scan.

use super::super::{Builder, Fields, KvHistory};
use super::{diagnose, read_blocks, Line, ReadError};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The old way: each line parsed, in order, on one thread.
fn reference(bytes: &[u8]) -> Result<KvHistory, ReadError> {
    let mut builder = Builder::default();
    let mut torn_line = None;
    let mut number = 0u64;
    for raw in bytes.split_inclusive(|&b| b == b'\n') {
        number += 1;
        let complete = raw.ends_with(b"\n");
        let text = match std::str::from_utf8(raw) {
            Ok(text) => text.trim_end_matches(['\n', '\r']),
            Err(_) if !complete => {
                torn_line = Some(number);
                break;
            }
            Err(e) => {
                return Err(ReadError {
                    line: number,
                    why: format!("not UTF-8 text: {e}"),
                })
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(text) {
            Ok(line) => builder
                .event(line.event(&Fields::of(&line.body)))
                .map_err(|p| ReadError {
                    line: number,
                    why: p.sentence(),
                })?,
            Err(_) if !complete && serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() => {
                torn_line = Some(number);
            }
            Err(e) => {
                return Err(ReadError {
                    line: number,
                    why: diagnose(text, &e),
                })
            }
        }
    }
    let mut history = builder.finish();
    history.torn_line = torn_line;
    Ok(history)
}

fn words(r: Result<KvHistory, ReadError>) -> String {
    format!("{r:?}")
}

/// Reads `bytes` with the reader (whole, and in small blocks) and the reference; panics
/// on any difference.
fn same(bytes: &[u8]) {
    let expected = words(reference(bytes));
    for size in [1 << 20, 7] {
        // Small reads, but not so small that the long lines take minutes.
        let capacity = if bytes.len() < 10_000 { 5 } else { 4096 };
        let got = words(read_blocks(
            std::io::BufReader::with_capacity(capacity, std::io::Cursor::new(bytes.to_vec())),
            size,
        ));
        assert_eq!(
            got,
            expected,
            "size {size}, input {:?}",
            String::from_utf8_lossy(bytes)
        );
    }
}

const INVOKE: &str = r#"{"index":0,"time":10,"process":1,"node":"n1","type":"invoke","f":"write","body":{"type":"write","key":"x","value":1}}"#;

/// Odd pieces for any value place.
const ODD: &[&str] = &[
    "0",
    "01",
    "00",
    "-0",
    "-1",
    "1.0",
    "1.5",
    "-0.0",
    "0.0",
    "1e2",
    "1E2",
    "1e-2",
    "1.0e0",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999",
    "-9223372036854775808",
    "-9223372036854775809",
    "9223372036854775808",
    "1234567890123456789012345678901234567890",
    "12345678901234567890123456789012345678901",
    "0.00000000000000000000000000000000000001",
    "null",
    "true",
    "false",
    "nul",
    "truex",
    "\"\"",
    "\"x\"",
    "\"a\\\"b\"",
    "\"\\u0000\"",
    "\"\\u00e9\"",
    "\"é\"",
    "\"\u{7f}\"",
    "\"\u{2028}\"",
    "\"\t\"",
    "\"\\/\"",
    "[]",
    "[1]",
    "{}",
    "{\"a\":1}",
    "{\"b\":1,\"a\":2}",
    "\"n1\"",
    "\"nemesis\"",
    "\"invoke\"",
    "\"ok\"",
    "\"fail\"",
    "\"info\"",
    "\"read\"",
    "\"write\"",
    "\"cas\"",
    "\"write_ok\"",
    "\"read_ok\"",
    "\"error\"",
    "20",
    "20.0",
    "\"20\"",
    "-",
    "+1",
    ".5",
    "1.",
    "NaN",
    "Infinity",
    "\"\\ud800\"",
    "[1,{\"b\":2,\"a\":-0.0}]",
];

fn pick<'a>(rng: &mut ChaCha8Rng, from: &[&'a str]) -> &'a str {
    from[rng.random_range(0..from.len())]
}

fn space(rng: &mut ChaCha8Rng) -> &'static str {
    if rng.random_bool(0.003) {
        // Not JSON whitespace.
        return pick(rng, &["\u{a0}", "\u{feff}", "\u{b}", "\u{c}", "\u{2028}"]);
    }
    pick(
        rng,
        &["", "", "", "", "", "", "", "", "", " ", "\t", "\r", " \r "],
    )
}

fn object(rng: &mut ChaCha8Rng, mut members: Vec<(String, String)>) -> String {
    members.retain(|_| rng.random_bool(0.97));
    for _ in 0..2 {
        if rng.random_bool(0.1) && !members.is_empty() {
            let i = rng.random_range(0..members.len());
            let mut twin = members[i].clone();
            if rng.random_bool(0.5) {
                twin.1 = pick(rng, ODD).to_owned();
            }
            members.push(twin);
        }
    }
    for i in (1..members.len()).rev() {
        members.swap(i, rng.random_range(0..=i));
    }
    let members: Vec<String> = members
        .into_iter()
        .map(|(n, v)| {
            let (a, b, c, d) = (space(rng), space(rng), space(rng), space(rng));
            format!("{a}\"{n}\"{b}:{c}{v}{d}")
        })
        .collect();
    let sep = if rng.random_bool(0.01) { ",," } else { "," };
    let tail = if rng.random_bool(0.01) { "," } else { "" };
    format!("{{{}{tail}{}}}", members.join(sep), space(rng))
}

/// A history event near the real ones: mostly plain, sometimes odd.
fn event(rng: &mut ChaCha8Rng, index: u64, odd: f64) -> String {
    macro_rules! or_odd {
        ($rng:expr, $plain:expr) => {{
            let plain: String = $plain;
            if $rng.random_bool(odd) {
                pick($rng, ODD).to_owned()
            } else {
                plain
            }
        }};
    }
    let f = pick(
        rng,
        &["read", "write", "cas", "read", "write", "add", "lease_read"],
    );
    let kind = pick(rng, &["invoke", "invoke", "ok", "fail", "info"]);
    let vals = [
        "0",
        "1",
        "2",
        "-1",
        "\"a\"",
        "\"b\"",
        "null",
        "1.0",
        "-0",
        "{\"a\":1}",
        "[1]",
        "true",
        "01",
    ];
    let keys = ["\"x\"", "\"y\"", "1", "0", "-0", "1.0", "\"x y\""];
    let mut body: Vec<(String, String)> = vec![(
        "type".into(),
        format!(
            "\"{}\"",
            if kind == "invoke" {
                f.to_owned()
            } else if kind == "ok" {
                format!("{f}_ok")
            } else {
                "error".into()
            }
        ),
    )];
    body.push(("key".into(), or_odd!(rng, pick(rng, &keys).into())));
    body.push(("value".into(), or_odd!(rng, pick(rng, &vals).into())));
    if f == "cas" {
        body.push(("from".into(), or_odd!(rng, pick(rng, &vals).into())));
        body.push(("to".into(), or_odd!(rng, pick(rng, &vals).into())));
    }
    if kind != "invoke" && kind != "ok" {
        body.push((
            "code".into(),
            or_odd!(rng, pick(rng, &["20", "11", "0", "30"]).into()),
        ));
    }
    if rng.random_bool(0.2) {
        let name = pick(
            rng,
            &[
                "msg_id",
                "text",
                "k\\u0065y",
                "valu\\u0065",
                "type",
                "in_reply_to",
            ],
        );
        body.push((
            name.into(),
            or_odd!(rng, rng.random_range(0..9).to_string()),
        ));
    }
    let body = object(rng, body);
    let body = if rng.random_bool(odd / 4.0) {
        pick(rng, ODD).to_owned()
    } else {
        body
    };
    let process = if rng.random_bool(0.05) {
        "\"nemesis\"".to_owned()
    } else {
        rng.random_range(0..4).to_string()
    };
    let mut top = vec![
        ("index".to_owned(), or_odd!(rng, index.to_string())),
        ("time".to_owned(), or_odd!(rng, (index * 10).to_string())),
        ("process".to_owned(), or_odd!(rng, process)),
        ("node".to_owned(), or_odd!(rng, "\"n1\"".into())),
        ("type".to_owned(), or_odd!(rng, format!("\"{kind}\""))),
        ("f".to_owned(), or_odd!(rng, format!("\"{f}\""))),
        ("body".to_owned(), body),
    ];
    if rng.random_bool(0.1) {
        top.push((
            pick(rng, &["phase", "extra", "Index", "f\\u0020"]).to_owned(),
            or_odd!(rng, "\"final\"".into()),
        ));
    }
    let text = object(rng, top);
    let (a, b) = (space(rng), space(rng));
    let end = match rng.random_range(0..40) {
        0 => "x",
        1 => "}",
        2 => " {}",
        3 => "\0",
        _ => "",
    };
    format!("{a}{text}{b}{end}")
}

#[test]
fn hand_written_lines_read_as_the_parse_reads_them() {
    let w = |body: &str| {
        format!(r#"{{"index":0,"time":10,"process":1,"type":"invoke","f":"write","body":{body}}}"#)
    };
    let r = |body: &str| {
        format!(
            "{}\n{}\n",
            r#"{"index":0,"time":10,"process":1,"type":"invoke","f":"read","body":{"type":"read","key":"x"}}"#,
            format_args!(
                r#"{{"index":1,"time":20,"process":1,"type":"ok","f":"read","body":{body}}}"#
            )
        )
    };
    let mut cases: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\n\n\n".to_vec(),
        b"\r\n\r\n".to_vec(),
        b"\0\n".to_vec(),
        b" \t \n".to_vec(),
        INVOKE.as_bytes().to_vec(),
        format!("{INVOKE}\n").into_bytes(),
        format!("{INVOKE}\r\n").into_bytes(),
        format!("{INVOKE}\r\r\n").into_bytes(),
        format!("\u{feff}{INVOKE}\n").into_bytes(),
        format!("{INVOKE}\n{{\"index\":1,\"ti").into_bytes(),
        format!("{INVOKE}\n{{}}").into_bytes(),
        format!("{INVOKE}\n[1]").into_bytes(),
        format!("{INVOKE}\n{INVOKE} x").into_bytes(),
        format!("{INVOKE}\n{INVOKE}}}").into_bytes(),
        format!("{INVOKE}\u{0}\n").into_bytes(),
        format!("{INVOKE}\u{a0}\n").into_bytes(),
        format!("{INVOKE}\u{b}\n").into_bytes(),
        format!("{INVOKE}\n\u{a0}\n").into_bytes(),
        w(r#"{"type":"write","key":"x","value":1,"value":2}"#).into_bytes(),
        w(r#"{"type":"write","key":"x","value":1,"value":2.5}"#).into_bytes(),
        w(r#"{"type":"write","key":"x","value":1.5,"value":2}"#).into_bytes(),
        w(r#"{"type":"write","key":"x","value":1,"value":{"b":1,"a":2}}"#).into_bytes(),
        w(r#"{"type":"write","key":"x","value":{"b":1,"a":-0.0}}"#).into_bytes(),
        w(r#"{"type":"write","key":"x","value":-0}"#).into_bytes(),
        w(r#"{"type":"write","key":"x","value":-0.0}"#).into_bytes(),
        w(r#"{"type":"write","key":"x","value":1.0}"#).into_bytes(),
        w(r#"{"type":"write","key":"x","value":1e2}"#).into_bytes(),
        w(r#"{"type":"write","key":"x","value":01}"#).into_bytes(),
        w(r#"{"type":"write","key":"x","value":"\u0000"}"#).into_bytes(),
        w(r#"{"type":"write","key":"x","value":"a\/b"}"#).into_bytes(),
        w(r#"{"type":"write","key":"x","value":"\u00e9"}"#).into_bytes(),
        w("{\"type\":\"write\",\"key\":\"x\",\"value\":\"\u{7f}\u{2028}\"}").into_bytes(),
        w("{\"type\":\"write\",\"key\":\"x\",\"value\":\"a\tb\"}").into_bytes(),
        w(r#"{"type":"write","key":"x","value":18446744073709551616}"#).into_bytes(),
        w(r#"{"type":"write","key":"x","value":-9223372036854775809}"#).into_bytes(),
        w(r#"{"type":"write","key":"x","value":-9223372036854775808}"#).into_bytes(),
        w(r#"{"type":"write","key":"x","value":null}"#).into_bytes(),
        w(r#"{"type":"write","key":true,"value":1}"#).into_bytes(),
        w(r#"{"type":"read","key":"x","value":1}"#).into_bytes(),
        w(r#"{"type":"write","type":5,"key":"x","value":1}"#).into_bytes(),
        w(r#"{"type":5,"type":"write","key":"x","value":1}"#).into_bytes(),
        w(r#"{"type":"write","key":"x","key":"y","value":1}"#).into_bytes(),
        w(r#"{"type":"write","key":"x","value":1,}"#).into_bytes(),
        w(r#"{"type":"write","key":"x",,"value":1}"#).into_bytes(),
        w(r#"{"type":"write" "key":"x","value":1}"#).into_bytes(),
        w(r#"{"type":"write","key":"x","value":1"#).into_bytes(),
        w(r#"[1]"#).into_bytes(),
        w(r#"5"#).into_bytes(),
        w(r#"null"#).into_bytes(),
        r(r#"{"type":"read_ok","value":1,"value":null}"#).into_bytes(),
        r(r#"{"type":"read_ok","value":-0}"#).into_bytes(),
        r(r#"{"type":"read_ok"}"#).into_bytes(),
        r(r#"{"type":"error","code":20}"#)
            .replace(
                "\"ok\",\"f\":\"read\",\"body\":{\"type\":\"error",
                "\"fail\",\"f\":\"read\",\"body\":{\"type\":\"error",
            )
            .into_bytes(),
    ];
    for field in ["index", "time", "process"] {
        for v in [
            "1.0",
            "-1",
            "-0",
            "01",
            "1e2",
            "18446744073709551615",
            "18446744073709551616",
            "\"7\"",
            "null",
            "1 ",
            " 1",
        ] {
            cases.push(
                INVOKE
                    .replacen(
                        &format!(
                            "\"{field}\":{}",
                            if field == "time" {
                                "10"
                            } else if field == "process" {
                                "1"
                            } else {
                                "0"
                            }
                        ),
                        &format!("\"{field}\":{v}"),
                        1,
                    )
                    .into_bytes(),
            );
        }
    }
    for dup in [
        r#","index":5"#,
        r#","process":2"#,
        r#","process":"x""#,
        r#","node":"n2""#,
        r#","node":null"#,
        r#","type":"ok""#,
        r#","f":"read""#,
        r#","body":{}"#,
        r#","phase":1,"phase":2"#,
        r#","phase":{"a":1}"#,
        r#","node":5"#,
    ] {
        cases.push(
            INVOKE
                .replacen(",\"body\"", &format!("{dup},\"body\""), 1)
                .into_bytes(),
        );
    }
    let mut bad = format!("{INVOKE}\n{INVOKE}\n").into_bytes();
    bad[30] = 0xff;
    cases.push(bad.clone());
    cases.push(bad[..bad.len() - 1].to_vec());
    let mut bad_last = format!("{INVOKE}\n{INVOKE}").into_bytes();
    let n = bad_last.len();
    bad_last[n - 3] = 0xff;
    cases.push(bad_last);
    cases.push(format!("{INVOKE}\n{INVOKE}\n").into_bytes()[..INVOKE.len() + 40].to_vec());
    let long = format!(
        "{}\n",
        INVOKE.replace(
            "\"value\":1",
            &format!("\"value\":\"{}\"", "é".repeat(400_000))
        )
    );
    cases.push(long.clone().into_bytes());
    cases.push(format!("{long}{long}{long}").into_bytes());
    for case in &cases {
        same(case);
    }
}

#[test]
fn generated_histories_read_as_the_parse_reads_them() {
    let mut rng = ChaCha8Rng::seed_from_u64(1818);
    for round in 0..1_000 {
        let odd = [0.0, 0.002, 0.02, 0.1][round % 4];
        let n = rng.random_range(0..40);
        let mut text = String::new();
        for i in 0..n {
            text += &event(&mut rng, i, odd);
            text += pick(&mut rng, &["\n", "\n", "\n", "\n", "\r\n", "\n\n"]);
        }
        if rng.random_bool(0.3) && !text.is_empty() {
            let mut end = rng.random_range(0..text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
        }
        same(text.as_bytes());
    }
}

/// Line by line: the reader refuses the first bad line, so a history of many lines
/// tests only its first odd one; here every line stands alone.
#[test]
fn generated_lines_read_as_the_parse_reads_them() {
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let (mut scanned, mut parsed) = (0, 0);
    for round in 0..15_000 {
        let odd = [0.0, 0.02, 0.1, 0.3][round % 4];
        let line = event(&mut rng, 0, odd);
        match super::scan(&line) {
            Some(_) => scanned += 1,
            None => parsed += 1,
        }
        let end = pick(&mut rng, &["\n", "", "\r\n"]);
        same(format!("{line}{end}").as_bytes());
    }
    assert!(
        scanned > 1_500 && parsed > 1_500,
        "{scanned} scanned, {parsed} left to the parse"
    );
}
