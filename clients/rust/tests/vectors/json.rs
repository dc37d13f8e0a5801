//! Just enough JSON (and base64) to read the suite's test vectors: the
//! standard library has neither, and no crate can be downloaded.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(BTreeMap<String, Json>),
}

impl Json {
    /// `value["key"]`, or Null when absent (or when this is no object).
    pub fn get(&self, key: &str) -> &Json {
        match self {
            Json::Object(map) => map.get(key).unwrap_or(&Json::Null),
            _ => &Json::Null,
        }
    }
    pub fn str(&self) -> &str {
        match self {
            Json::String(s) => s,
            other => panic!("expected a string, got {other:?}"),
        }
    }
    pub fn array(&self) -> &[Json] {
        match self {
            Json::Array(items) => items,
            Json::Null => &[],
            other => panic!("expected an array, got {other:?}"),
        }
    }
    pub fn is_null(&self) -> bool {
        *self == Json::Null
    }
    /// The bytes of a `{"base64": ..., "escaped": ...}` object.
    pub fn bytes(&self) -> Vec<u8> {
        base64(self.get("base64").str())
    }
}

pub fn parse(text: &str) -> Json {
    let mut p = Parser { s: text.as_bytes(), i: 0 };
    let value = p.value();
    p.ws();
    assert_eq!(p.i, p.s.len(), "trailing characters after the JSON value");
    value
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, byte: u8) {
        self.ws();
        assert_eq!(self.s.get(self.i), Some(&byte), "JSON: expected {:?} at byte {}", byte as char, self.i);
        self.i += 1;
    }

    fn value(&mut self) -> Json {
        self.ws();
        match self.s[self.i] {
            b'{' => {
                self.i += 1;
                let mut map = BTreeMap::new();
                self.ws();
                if self.s[self.i] == b'}' {
                    self.i += 1;
                    return Json::Object(map);
                }
                loop {
                    self.ws();
                    let key = self.string();
                    self.eat(b':');
                    map.insert(key, self.value());
                    self.ws();
                    self.i += 1;
                    match self.s[self.i - 1] {
                        b',' => continue,
                        b'}' => return Json::Object(map),
                        c => panic!("JSON: unexpected {:?} in object", c as char),
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s[self.i] == b']' {
                    self.i += 1;
                    return Json::Array(items);
                }
                loop {
                    items.push(self.value());
                    self.ws();
                    self.i += 1;
                    match self.s[self.i - 1] {
                        b',' => continue,
                        b']' => return Json::Array(items),
                        c => panic!("JSON: unexpected {:?} in array", c as char),
                    }
                }
            }
            b'"' => Json::String(self.string()),
            b't' => self.word("true", Json::Bool(true)),
            b'f' => self.word("false", Json::Bool(false)),
            b'n' => self.word("null", Json::Null),
            _ => {
                let start = self.i;
                while self.i < self.s.len() && b"+-0123456789.eE".contains(&self.s[self.i]) {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i]).unwrap();
                Json::Number(text.parse().unwrap_or_else(|_| panic!("JSON: bad number {text:?}")))
            }
        }
    }

    fn word(&mut self, word: &str, value: Json) -> Json {
        assert!(self.s[self.i..].starts_with(word.as_bytes()), "JSON: expected {word}");
        self.i += word.len();
        value
    }

    fn string(&mut self) -> String {
        self.eat(b'"');
        let mut out = String::new();
        loop {
            let c = self.s[self.i];
            self.i += 1;
            match c {
                b'"' => return out,
                b'\\' => {
                    let e = self.s[self.i];
                    self.i += 1;
                    out.push(match e {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'u' => self.unicode_escape(),
                        other => other as char, // \" \\ \/
                    });
                }
                _ => {
                    // Copy one UTF-8 character whole.
                    let start = self.i - 1;
                    while self.i < self.s.len() && (self.s[self.i] & 0xC0) == 0x80 {
                        self.i += 1;
                    }
                    out.push_str(std::str::from_utf8(&self.s[start..self.i]).unwrap());
                }
            }
        }
    }

    fn unicode_escape(&mut self) -> char {
        let hex = |p: &mut Self| {
            let text = std::str::from_utf8(&p.s[p.i..p.i + 4]).unwrap();
            p.i += 4;
            u32::from_str_radix(text, 16).unwrap()
        };
        let first = hex(self);
        if (0xD800..0xDC00).contains(&first) && self.s[self.i..].starts_with(b"\\u") {
            self.i += 2;
            let second = hex(self);
            return char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)).unwrap_or('\u{FFFD}');
        }
        char::from_u32(first).unwrap_or('\u{FFFD}')
    }
}

/// Decodes standard base64 (with or without `=` padding).
pub fn base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c).unwrap_or_else(|| panic!("bad base64 {:?}", c as char));
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[test]
fn json_parses_what_the_vectors_use() {
    let v = parse(r#"{"a": [1, true, null, "x\"\u00e9\ud83d\ude00"], "b": {}}"#);
    assert_eq!(v.get("a").array()[3].str(), "x\"é😀");
    assert_eq!(v.get("a").array()[0], Json::Number(1.0));
    assert_eq!(base64("aGVsbG8="), b"hello");
    assert_eq!(base64("AP/+fA0KgCB/XA=="), b"\x00\xff\xfe|\r\n\x80 \x7f\\");
}
