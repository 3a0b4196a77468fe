//! [`scan`]: a history line read by hand, for the plain lines that make up nearly all of
//! a history: no escapes, no nesting, no exponents, no field of the line given twice.
//! Anything else is left to the parse (see [`super::read`]), so what the scan takes it
//! takes exactly as the parse would. The body's `key`, `value`, `from`, `to` and `code`
//! are kept as their JSON text, and only when that text is already what `Value::to_string`
//! would write (see [`Scalar`]); no `Value` is built. What the scan keeps are places in
//! the line ([`Span`]), so that a line can be scanned on one thread and taken on another.

use super::super::{Event, Fields, Json};
use crate::history::EventType;

/// Where a piece of a line lies in it.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    /// The piece of `line`.
    fn of(self, line: &str) -> &str {
        &line[self.start as usize..self.end as usize]
    }
}

/// What the scan keeps of a body: its `type` when that is a string, and its register
/// fields.
#[derive(Default)]
struct Body {
    kind: Option<Span>,
    key: Option<Span>,
    value: Option<Span>,
    from: Option<Span>,
    to: Option<Span>,
    code: Option<Span>,
}

/// A history line, scanned.
pub(super) struct Scanned {
    index: u64,
    time: u64,
    process: Option<u64>,
    kind: EventType,
    f: Span,
    node: Option<Span>,
    body: Body,
}

impl Scanned {
    /// The fields of the body of `line`, the text that was scanned.
    pub(super) fn fields<'a>(&self, line: &'a str) -> Fields<'a> {
        let json = |span: Option<Span>| span.map(|span| Json::Text(span.of(line)));
        Fields {
            object: true,
            kind: self.body.kind.map(|span| span.of(line)),
            key: json(self.body.key),
            value: json(self.body.value),
            from: json(self.body.from),
            to: json(self.body.to),
            code: json(self.body.code),
        }
    }

    /// `line`, the text that was scanned, as the builder takes it, with `body` its
    /// [`Scanned::fields`].
    pub(super) fn event<'a>(&self, line: &'a str, body: &'a Fields<'a>) -> Event<'a> {
        Event {
            process: self.process,
            kind: self.kind,
            f: self.f.of(line),
            index: self.index,
            time: self.time,
            node: self.node.map(|span| span.of(line)),
            body,
        }
    }
}

/// A scalar JSON value as the scan sees it.
#[derive(Clone, Copy)]
enum Scalar {
    /// A string without escapes: where its text lies, between the quotes.
    Str(Span),
    /// `null`, `true`, `false` or an integer that serde_json holds exactly (so written
    /// back the same): where its text lies.
    Compact(Span),
    /// Any other number without an exponent (valid, but written back otherwise).
    Number,
}

/// A cursor over one line.
struct Scan<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scan<'a> {
    /// The byte at the cursor; 0 (never valid there) at the end.
    fn byte(&self) -> u8 {
        self.text.as_bytes().get(self.at).copied().unwrap_or(0)
    }

    /// Where the text from `start` to the cursor lies.
    fn since(&self, start: usize) -> Span {
        Span {
            start: start as u32,
            end: self.at as u32,
        }
    }

    /// Skips JSON whitespace.
    fn space(&mut self) {
        while matches!(self.byte(), b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
    }

    /// Whitespace, then `byte`.
    fn eat(&mut self, byte: u8) -> Option<()> {
        self.space();
        (self.byte() == byte).then(|| self.at += 1)
    }

    /// Whitespace, then a string without escapes or control characters; where its text
    /// lies.
    fn string(&mut self) -> Option<Span> {
        self.eat(b'"')?;
        let bytes = self.text.as_bytes();
        let start = self.at;
        loop {
            match *bytes.get(self.at)? {
                b'"' => break,
                b'\\' | 0..0x20 => return None,
                _ => self.at += 1,
            }
        }
        let string = self.since(start);
        self.at += 1;
        Some(string)
    }

    /// Digits at the cursor, as a number if it fits a `u64`, and how many there were.
    fn digits(&mut self) -> (Option<u64>, usize) {
        let start = self.at;
        let mut n = Some(0u64);
        while let d @ 0..10 = self.byte().wrapping_sub(b'0') {
            n = n.and_then(|n| n.checked_mul(10)?.checked_add(u64::from(d)));
            self.at += 1;
        }
        (n, self.at - start)
    }

    /// Whitespace, then a scalar; `None` for anything the scan leaves to the parse (an
    /// object, an array, an exponent, a long number, anything not JSON).
    fn scalar(&mut self) -> Option<Scalar> {
        self.space();
        let start = self.at;
        for word in ["null", "true", "false"] {
            if self.text[start..].starts_with(word) {
                self.at += word.len();
                return Some(Scalar::Compact(self.since(start)));
            }
        }
        let negative = match self.byte() {
            b'"' => return self.string().map(Scalar::Str),
            b'-' => {
                self.at += 1;
                true
            }
            _ => false,
        };
        let (whole, count) = self.digits();
        // JSON: at least one digit, and no leading zero.
        if count == 0 || (count > 1 && self.text.as_bytes()[self.at - count] == b'0') {
            return None;
        }
        let fraction = self.byte() == b'.';
        if fraction {
            self.at += 1;
            if self.digits().1 == 0 {
                return None;
            }
        }
        if matches!(self.byte(), b'e' | b'E') || self.at - start > 40 {
            return None;
        }
        let exact = match whole {
            _ if fraction => false,
            Some(n) if negative => n != 0 && n <= 1 << 63,
            whole => whole.is_some(),
        };
        Some(if exact {
            Scalar::Compact(self.since(start))
        } else {
            Scalar::Number
        })
    }

    /// Whitespace, then a non-negative integer that fits a `u64`.
    fn count(&mut self) -> Option<u64> {
        self.space();
        let (n, count) = self.digits();
        let plain = count == 1 || (count > 1 && self.text.as_bytes()[self.at - count] != b'0');
        (plain && !matches!(self.byte(), b'.' | b'e' | b'E')).then_some(n?)
    }

    /// The members of an object, each handed to `member` with the scan at its value;
    /// `member` answers `None` to leave the line to the parse.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        self.space();
        if self.byte() == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            let name = self.string()?.of(self.text);
            self.eat(b':')?;
            self.space();
            member(self, name)?;
            self.space();
            match self.byte() {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A body: an object of scalars, its register fields compact.
    fn body(&mut self) -> Option<Body> {
        let mut body = Body::default();
        self.object(|scan, name| {
            let value = scan.scalar()?;
            let field = match name {
                // Given twice, a field counts as its last, as in a `Value`.
                "type" => {
                    body.kind = match value {
                        Scalar::Str(span) => Some(span),
                        _ => None,
                    };
                    return Some(());
                }
                "key" => &mut body.key,
                "value" => &mut body.value,
                "from" => &mut body.from,
                "to" => &mut body.to,
                "code" => &mut body.code,
                _ => return Some(()),
            };
            *field = Some(match value {
                Scalar::Compact(span) => span,
                // With its quotes.
                Scalar::Str(span) => Span {
                    start: span.start - 1,
                    end: span.end + 1,
                },
                Scalar::Number => return None,
            });
            Some(())
        })?;
        Some(body)
    }
}

/// Fills a field seen for the first time; a field given twice is left to the parse (which
/// refuses it).
fn once<T>(field: &mut Option<T>, value: Option<T>) -> Option<()> {
    if field.is_some() {
        return None;
    }
    *field = Some(value?);
    Some(())
}

/// A plain line, scanned; `None` leaves it to the parse.
pub(super) fn scan(text: &str) -> Option<Scanned> {
    u32::try_from(text.len()).ok()?;
    let mut scan = Scan { text, at: 0 };
    let (mut index, mut time, mut process, mut kind) = (None, None, None, None);
    let (mut f, mut node, mut body) = (None, None, None);
    scan.object(|scan, name| match name {
        "index" => once(&mut index, scan.count()),
        "time" => once(&mut time, scan.count()),
        "process" => once(
            &mut process,
            match scan.byte() {
                b'"' => scan.string().map(|_| None),
                _ => scan.count().map(Some),
            },
        ),
        "type" => once(
            &mut kind,
            match scan.string()?.of(scan.text) {
                "invoke" => Some(EventType::Invoke),
                "ok" => Some(EventType::Ok),
                "fail" => Some(EventType::Fail),
                "info" => Some(EventType::Info),
                _ => None,
            },
        ),
        "f" => once(&mut f, scan.string()),
        "node" => once(
            &mut node,
            match scan.scalar()? {
                Scalar::Str(span) => Some(Some(span)),
                Scalar::Compact(span) if span.of(scan.text) == "null" => Some(None),
                _ => None,
            },
        ),
        "body" => once(&mut body, scan.body()),
        // Other fields the parse would skip.
        _ => scan.scalar().map(|_| ()),
    })?;
    scan.space();
    (scan.at == text.len()).then_some(())?;
    Some(Scanned {
        index: index?,
        time: time?,
        process: process?,
        kind: kind?,
        f: f?,
        node: node.flatten(),
        body: body?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Line;
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Everything the builder can learn from an event, in words.
    fn digest(e: &Event) -> String {
        let json = |field: Option<Json>| {
            field.map(|j| (j.text().into_owned(), j.is_null(), j.is_key(), j.as_u64()))
        };
        let b = e.body;
        format!(
            "{} {} {:?} {:?} {:?} {:?} | {} {:?} {:?} {:?} {:?} {:?} {:?}",
            e.index,
            e.time,
            e.process,
            e.kind,
            e.f,
            e.node,
            b.object,
            b.kind,
            json(b.key),
            json(b.value),
            json(b.from),
            json(b.to),
            json(b.code)
        )
    }

    /// The line as the parse takes it, or `None` when the parse refuses it.
    fn parsed(text: &str) -> Option<String> {
        let line = serde_json::from_str::<Line>(text).ok()?;
        Some(digest(&line.event(&Fields::of(&line.body))))
    }

    fn scanned(text: &str) -> Option<String> {
        let line = scan(text)?;
        Some(digest(&line.event(text, &line.fields(text))))
    }

    /// Values that are not plain (and some that are), for any place in a line.
    const ODD: &[&str] = &[
        "0",
        "01",
        "-1",
        "-0",
        "1.0",
        "1.5",
        "-2.50",
        "1.",
        ".5",
        "+1",
        "-",
        "1e2",
        "1E400",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "123456789012345678901234567890.5",
        "null",
        "true",
        "false",
        "nul",
        "\"\"",
        "\"a b\"",
        "\"\\\"\"",
        "\"\\u00e9\"",
        "\"é\"",
        "\"\u{1}\"",
        "[1]",
        "{\"a\":1}",
        "{}",
        "\"n1\"",
        "\"nemesis\"",
        "\"o\\u006b\"",
        "\"done\"",
    ];

    /// A line made of pieces near a history event: most plain, some not.
    fn line(rng: &mut ChaCha8Rng) -> String {
        fn pick(rng: &mut ChaCha8Rng, from: &[&str]) -> String {
            from[rng.random_range(0..from.len())].to_owned()
        }
        // `plain`, or now and then something odd.
        let or_odd = |rng: &mut ChaCha8Rng, plain: String| match rng.random_range(0..100) {
            0..90 => plain,
            // Past what a float holds.
            90 => "9".repeat(400),
            _ => pick(rng, ODD),
        };
        let space = |rng: &mut ChaCha8Rng| pick(rng, &["", "", "", "", "", " ", "\t", " \r\n "]);
        let object = |rng: &mut ChaCha8Rng, mut members: Vec<(String, String)>| {
            // Some fields left out, some given twice, in any order.
            members.retain(|_| rng.random_bool(0.97));
            if rng.random_bool(0.1) && !members.is_empty() {
                members.push(members[rng.random_range(0..members.len())].clone());
            }
            for i in (1..members.len()).rev() {
                members.swap(i, rng.random_range(0..=i));
            }
            let members: Vec<String> = (members.into_iter())
                .map(|(name, value)| {
                    let (a, b, c, d) = (space(rng), space(rng), space(rng), space(rng));
                    format!("{a}\"{name}\"{b}:{c}{value}{d}")
                })
                .collect();
            format!("{{{}{}}}", members.join(","), space(rng))
        };
        let body_types = ["\"read\"", "\"read_ok\"", "\"error\"", "\"wr\\u0069te\""];
        let names = [
            "key",
            "value",
            "from",
            "to",
            "code",
            "msg_id",
            "text",
            "k\\u0065y",
        ];
        let mut body: Vec<(String, String)> = (0..rng.random_range(0..5))
            .map(|_| {
                let value = rng.random_range(0..1000).to_string();
                (pick(rng, &names), or_odd(rng, value))
            })
            .collect();
        body.push(("type".into(), pick(rng, &body_types)));
        let body = object(rng, body);
        let kinds = ["\"invoke\"", "\"ok\"", "\"fail\"", "\"info\""];
        let fs = ["\"read\"", "\"write\"", "\"cas\"", "\"add\""];
        let plain = [
            ("index", rng.random_range(0..99).to_string()),
            ("time", rng.random_range(0..99).to_string()),
            ("process", rng.random_range(0..9).to_string()),
            ("node", "\"n1\"".into()),
            ("type", pick(rng, &kinds)),
            ("f", pick(rng, &fs)),
            ("body", body),
            ("phase", "\"final\"".into()),
        ];
        let members = (plain.into_iter())
            .map(|(name, value)| (name.to_owned(), or_odd(rng, value)))
            .collect();
        let text = format!("{}{}{}", space(rng), object(rng, members), space(rng));
        match rng.random_range(0..30) {
            0 => {
                let mut end = rng.random_range(0..text.len());
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text[..end].to_owned()
            }
            1 => text + "x",
            _ => text,
        }
    }

    #[test]
    fn the_scan_takes_a_line_only_as_the_parse_does() {
        let mut rng = ChaCha8Rng::seed_from_u64(18);
        let (mut taken, mut left) = (0, 0);
        for _ in 0..40_000 {
            let text = line(&mut rng);
            let Some(fast) = scanned(&text) else {
                left += 1;
                continue;
            };
            taken += 1;
            assert_eq!(Some(fast), parsed(&text), "{text}");
        }
        assert!(
            taken > 2_000 && left > 2_000,
            "{taken} taken, {left} left to the parse"
        );
    }

    #[test]
    fn plain_lines_are_scanned() {
        for text in [
            r#"{"index":0,"time":91100,"process":9,"node":"n1","type":"invoke","f":"write","body":{"type":"write","key":69,"value":4}}"#,
            r#"{"index":2,"time":354,"process":1,"node":"n2","type":"fail","f":"read","body":{"type":"error","code":11,"text":"no leader known; try again","in_reply_to":4,"msg_id":1}}"#,
            r#"{"index":100,"time":963476911,"process":"harness","node":"n1","type":"info","f":"stall","body":{"ms":35.233}}"#,
            r#" { "index" : 1 , "time" : 2 , "process" : 3 , "type" : "ok" , "f" : "cas" , "body" : { } , "phase" : "final" } "#,
        ] {
            assert!(scanned(text).is_some(), "{text}");
            assert_eq!(scanned(text), parsed(text));
        }
    }
}
