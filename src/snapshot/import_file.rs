//! What `convex import` reads of its input file before uploading it, as the
//! official CLI does, plus a look at its first bytes to warn early:
//!
//! - the format: `--format`, else the file name's extension as Node's
//!   `path.extname` gives it (`.csv`, `.jsonl`, `.json`, `.zip`; case matters)
//!   ([`determine_format`]);
//! - the part size: `CONVEX_IMPORT_CHUNK_SIZE` read the way JavaScript's
//!   `parseInt(value, 10)` reads it, default 5 MiB, never so small that the
//!   file needs 10,000 parts or more ([`chunk_size`]);
//! - the parts themselves: the file cut into pieces of exactly that size (the
//!   last one shorter), a UTF-8 byte-order mark dropped from the first one
//!   ([`PartReader`]).
//!
//! The official CLI does not look inside the file: the deployment parses it
//! after the upload. [`sniff`] only reads the first bytes for a warning on
//! stderr (a `.json` file that is not an array, a `.zip` that is no ZIP); the
//! upload goes ahead either way, so the requests stay the reference's.

use std::io::Read;

/// The backend takes parts of at least 5 MiB (but the last); the official CLI
/// reads the file in pieces of this size.
pub const DEFAULT_CHUNK_SIZE: u64 = 5 * 1024 * 1024;

/// The backend refuses uploads of 10,000 parts or more; the official CLI
/// sizes parts for at most 9,999.
pub const MAX_PARTS: u64 = 9999;

/// An input format of `convex import` (`--format`), named as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFormat {
    #[value(name = "csv")]
    Csv,
    #[value(name = "jsonLines")]
    JsonLines,
    #[value(name = "jsonArray")]
    JsonArray,
    #[value(name = "zip")]
    Zip,
}

impl ImportFormat {
    /// The name sent in `finish_upload` and printed in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Csv => "csv",
            ImportFormat::JsonLines => "jsonLines",
            ImportFormat::JsonArray => "jsonArray",
            ImportFormat::Zip => "zip",
        }
    }

    /// The extension that implies this format.
    pub fn extension(self) -> &'static str {
        match self {
            ImportFormat::Csv => ".csv",
            ImportFormat::JsonLines => ".jsonl",
            ImportFormat::JsonArray => ".json",
            ImportFormat::Zip => ".zip",
        }
    }

    /// The format an extension implies (exact, case-sensitive match).
    pub fn from_extension(extension: &str) -> Option<ImportFormat> {
        [
            ImportFormat::Csv,
            ImportFormat::JsonLines,
            ImportFormat::JsonArray,
            ImportFormat::Zip,
        ]
        .into_iter()
        .find(|f| f.extension() == extension)
    }
}

/// The outcome of [`determine_format`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatChoice {
    /// `None`: neither `--format` nor the extension names one.
    pub format: Option<ImportFormat>,
    /// The extension contradicts `--format` (a warning, not an error).
    pub mismatch_warning: Option<String>,
}

/// `--format` wins; otherwise the extension decides. An extension that does
/// not match an explicit `--format` gives a warning, as in the official CLI.
pub fn determine_format(path: &str, flag: Option<ImportFormat>) -> FormatChoice {
    let extension = extname(path);
    if extension.is_empty() {
        return FormatChoice {
            format: flag,
            mismatch_warning: None,
        };
    }
    let mismatch_warning = flag.filter(|f| f.extension() != extension).map(|f| {
        format!(
            "The extension of {path} ({extension}) does not match --format {} (which expects {}); the file is imported as {}.",
            f.as_str(),
            f.extension(),
            f.as_str()
        )
    });
    FormatChoice {
        format: flag.or_else(|| ImportFormat::from_extension(extension)),
        mismatch_warning,
    }
}

fn is_separator(c: u8) -> bool {
    c == b'/' || (cfg!(windows) && c == b'\\')
}

/// Node's `path.extname`: the last `.` and what follows it in the last path
/// component (trailing separators ignored), or `""` when that component has
/// no dot, starts with its only dot (`.jsonl`), or is `..`. On Windows `\`
/// separates too and a drive prefix (`C:`) is skipped, as `path.win32` does.
pub fn extname(path: &str) -> &str {
    let bytes = path.as_bytes();
    let mut start = 0;
    if cfg!(windows) && bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        start = 2;
    }
    let mut start_dot: Option<usize> = None;
    let mut start_part = start;
    let mut end: Option<usize> = None;
    let mut matched_slash = true;
    // 0: nothing but dots seen before the last dot; 1: more dots; -1: a
    // non-dot character.
    let mut pre_dot_state = 0i8;
    let mut i = bytes.len();
    while i > start {
        i -= 1;
        let c = bytes[i];
        if is_separator(c) {
            if !matched_slash {
                start_part = i + 1;
                break;
            }
            continue;
        }
        if end.is_none() {
            matched_slash = false;
            end = Some(i + 1);
        }
        if c == b'.' {
            if start_dot.is_none() {
                start_dot = Some(i);
            } else if pre_dot_state != 1 {
                pre_dot_state = 1;
            }
        } else if start_dot.is_some() {
            pre_dot_state = -1;
        }
    }
    match (start_dot, end) {
        (Some(dot), Some(end))
            if pre_dot_state != 0
                && !(pre_dot_state == 1 && dot == end - 1 && dot == start_part + 1) =>
        {
            &path[dot..end]
        }
        _ => "",
    }
}

/// `CONVEX_IMPORT_CHUNK_SIZE` as the official CLI reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChunkSetting {
    /// Unset or empty: 5 MiB.
    Default,
    /// `parseInt(value, 10)` (may be negative, zero or huge).
    Bytes(f64),
    /// No digits where `parseInt` wants them: the official CLI crashes.
    NotANumber,
}

impl ChunkSetting {
    /// Read the variable's raw value.
    pub fn parse(raw: Option<&str>) -> ChunkSetting {
        match raw {
            None | Some("") => ChunkSetting::Default,
            Some(value) => parse_int(value).map_or(ChunkSetting::NotANumber, ChunkSetting::Bytes),
        }
    }

    /// Whether `parseInt` ignored part of the value (`5MB`, `1e6`, `0x10`).
    pub fn ignores_text(raw: &str) -> bool {
        let trimmed = raw.trim_start_matches(is_js_whitespace);
        let unsigned = trimmed
            .strip_prefix(['+', '-'])
            .unwrap_or(trimmed)
            .trim_end_matches(is_js_whitespace);
        !unsigned.bytes().all(|b| b.is_ascii_digit())
    }
}

/// JavaScript's `WhiteSpace` and `LineTerminator` characters (what
/// `parseInt` skips first).
fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// `parseInt(value, 10)`: leading whitespace, an optional sign, then the
/// longest run of decimal digits; `None` (NaN) when there is no digit.
pub fn parse_int(value: &str) -> Option<f64> {
    let rest = value.trim_start_matches(is_js_whitespace);
    let (negative, rest) = match rest.as_bytes().first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    // Parsing the digit string as a float rounds the way JavaScript does.
    let magnitude: f64 = rest[..digits].parse().ok()?;
    Some(if negative { -magnitude } else { magnitude })
}

/// The part size for a file of `file_size` bytes: the setting (or 5 MiB),
/// raised to `ceil(file_size / 9999)` when smaller. `None` when the setting
/// is not a number.
pub fn chunk_size(setting: ChunkSetting, file_size: u64) -> Option<u64> {
    let min = file_size.div_ceil(MAX_PARTS);
    let wanted = match setting {
        ChunkSetting::Default => DEFAULT_CHUNK_SIZE as f64,
        ChunkSetting::Bytes(b) => b,
        ChunkSetting::NotANumber => return None,
    };
    let size = if wanted < min as f64 {
        min
    } else if wanted >= u64::MAX as f64 {
        u64::MAX
    } else {
        // Node reads `highWaterMark` bytes at a time; a fraction cannot come
        // from `parseInt`.
        wanted as u64
    };
    Some(size.max(1))
}

/// The UTF-8 byte-order mark.
pub const BOM: [u8; 3] = [0xef, 0xbb, 0xbf];

/// Reads a file as upload parts: `chunk_size` bytes each (the last one
/// shorter), the first without a leading byte-order mark. An empty file has
/// no parts. Reads one part at a time, so memory stays at one part.
pub struct PartReader<R> {
    inner: R,
    chunk_size: u64,
    /// Parts handed out so far.
    parts: u64,
    /// Bytes read from the file so far (with the mark).
    bytes_read: u64,
    done: bool,
}

impl<R: Read> PartReader<R> {
    pub fn new(inner: R, chunk_size: u64) -> PartReader<R> {
        PartReader {
            inner,
            chunk_size: chunk_size.max(1),
            parts: 0,
            bytes_read: 0,
            done: false,
        }
    }

    /// Bytes read from the file so far, byte-order mark included (what the
    /// progress line shows).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The next part, or `None` at the end of the file.
    pub fn next_part(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        let mut part = Vec::new();
        let want = self.chunk_size;
        let read = (&mut self.inner).take(want).read_to_end(&mut part)?;
        if read == 0 {
            self.done = true;
            return Ok(None);
        }
        if (read as u64) < want {
            self.done = true;
        }
        self.bytes_read += read as u64;
        if self.parts == 0 && part.starts_with(&BOM) {
            part.drain(..3);
        }
        self.parts += 1;
        Ok(Some(part))
    }
}

/// How many bytes [`sniff`] looks at.
pub const SNIFF_LEN: usize = 64 * 1024;

/// A warning when the first bytes of the file do not look like `format`
/// (`None` when they do, or when there is too little to tell). `head` is the
/// start of the file, at most [`SNIFF_LEN`] bytes are looked at.
pub fn sniff(format: ImportFormat, head: &[u8], file_size: u64) -> Option<String> {
    let head = &head[..head.len().min(SNIFF_LEN)];
    let head = head.strip_prefix(&BOM[..]).unwrap_or(head);
    if file_size == 0 || head.is_empty() {
        return Some("The file is empty.".to_string());
    }
    let first = head.iter().copied().find(|b| !b.is_ascii_whitespace());
    match format {
        ImportFormat::Zip => {
            let zip = head.starts_with(b"PK\x03\x04")
                || head.starts_with(b"PK\x05\x06")
                || head.starts_with(b"PK\x07\x08");
            (!zip).then(|| {
                "It does not start like a ZIP archive. ZIP imports hold one folder per table with a documents.jsonl file in each, as `npx convex export` writes them.".to_string()
            })
        }
        _ if head.contains(&0) => Some(format!(
            "It holds NUL bytes, which a {} file does not have: is it a binary file (a ZIP archive needs --format zip)?",
            format.as_str()
        )),
        ImportFormat::JsonArray => match first {
            Some(b'[') | None => None,
            Some(b'{') => Some(
                "It starts with `{`, but a jsonArray file holds one JSON array of objects. For one object per line use a .jsonl name or --format jsonLines.".to_string(),
            ),
            Some(_) => Some(
                "It does not start with `[`, but a jsonArray file holds one JSON array of objects.".to_string(),
            ),
        },
        ImportFormat::JsonLines => match first {
            Some(b'{') | None => None,
            Some(b'[') => Some(
                "It starts with `[`, but a jsonLines file holds one JSON object per line. For one JSON array use a .json name or --format jsonArray.".to_string(),
            ),
            Some(_) => Some(
                "It does not start with `{`, but a jsonLines file holds one JSON object per line.".to_string(),
            ),
        },
        ImportFormat::Csv => {
            let header_line = head.split(|b| *b == b'\n').next().unwrap_or_default();
            let blank = header_line.iter().all(|b| b.is_ascii_whitespace());
            blank.then(|| {
                "Its first line is blank, but a CSV file starts with a header line naming the columns.".to_string()
            })
        }
    }
}

/// `formatSize` of the official CLI: bytes in binary units with at most one
/// decimal (`72 bytes`, `4.1 MiB`, `128 MiB`).
pub fn format_size(n: u64) -> String {
    const UNITS: [&str; 6] = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if (value * 10.0).round() / 10.0 >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let text = format!("{value:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    format!("{text} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extname_matches_node() {
        // Expected values from Node's path.posix.extname.
        let cases = [
            ("data.jsonl", ".jsonl"),
            ("dir/data.json", ".json"),
            ("a.b.csv", ".csv"),
            (".jsonl", ""),
            ("..", ""),
            ("...", "."),
            ("data.", "."),
            ("data", ""),
            ("dir.d/data", ""),
            ("data.json/", ".json"),
            ("data.json//", ".json"),
            ("./x.zip", ".zip"),
            ("..zip", ".zip"),
            ("a..", "."),
            ("", ""),
            ("/", ""),
            ("DATA.JSONL", ".JSONL"),
            (".a.b", ".b"),
        ];
        for (path, want) in cases {
            assert_eq!(extname(path), want, "extname({path:?})");
        }
    }

    #[test]
    fn formats() {
        let f = |p: &str, flag| determine_format(p, flag);
        assert_eq!(f("x.jsonl", None).format, Some(ImportFormat::JsonLines));
        assert_eq!(f("x.json", None).format, Some(ImportFormat::JsonArray));
        assert_eq!(f("x.csv", None).format, Some(ImportFormat::Csv));
        assert_eq!(f("x.zip", None).format, Some(ImportFormat::Zip));
        assert_eq!(f("x.JSON", None).format, None);
        assert_eq!(f("x", None).format, None);
        assert_eq!(f("x.txt", None).format, None);
        let choice = f("x.txt", Some(ImportFormat::Csv));
        assert_eq!(choice.format, Some(ImportFormat::Csv));
        assert!(choice.mismatch_warning.unwrap().contains("(.txt)"));
        let choice = f("x", Some(ImportFormat::Zip));
        assert_eq!(choice.format, Some(ImportFormat::Zip));
        assert_eq!(choice.mismatch_warning, None);
        assert_eq!(f("x.csv", Some(ImportFormat::Csv)).mismatch_warning, None);
    }

    #[test]
    fn parse_int_like_javascript() {
        // Expected values from Node's parseInt(v, 10).
        assert_eq!(parse_int("24abc"), Some(24.0));
        assert_eq!(parse_int(" 12"), Some(12.0));
        assert_eq!(parse_int("\u{feff}\u{3000}7"), Some(7.0));
        assert_eq!(parse_int("+7"), Some(7.0));
        assert_eq!(parse_int("-3"), Some(-3.0));
        assert_eq!(parse_int("0x10"), Some(0.0));
        assert_eq!(parse_int("1e3"), Some(1.0));
        assert_eq!(parse_int("1.5"), Some(1.0));
        assert_eq!(parse_int("1_000"), Some(1.0));
        assert_eq!(parse_int("abc"), None);
        assert_eq!(parse_int("  "), None);
        assert_eq!(parse_int("-"), None);
        assert_eq!(parse_int("\u{85}5"), None);
        assert_eq!(parse_int("9007199254740993"), Some(9007199254740992.0));
        assert!(ChunkSetting::ignores_text("5MB"));
        assert!(!ChunkSetting::ignores_text(" 24 "));
        assert!(!ChunkSetting::ignores_text("-24"));
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(
            chunk_size(ChunkSetting::parse(None), 72),
            Some(DEFAULT_CHUNK_SIZE)
        );
        assert_eq!(
            chunk_size(ChunkSetting::parse(Some("")), 72),
            Some(DEFAULT_CHUNK_SIZE)
        );
        assert_eq!(chunk_size(ChunkSetting::parse(Some("24")), 72), Some(24));
        assert_eq!(chunk_size(ChunkSetting::parse(Some("x")), 72), None);
        // Never 10,000 parts or more.
        assert_eq!(chunk_size(ChunkSetting::Bytes(1.0), 100_000), Some(11));
        assert_eq!(chunk_size(ChunkSetting::Bytes(-5.0), 0), Some(1));
        assert_eq!(chunk_size(ChunkSetting::Bytes(0.0), 10), Some(1));
        assert_eq!(chunk_size(ChunkSetting::Bytes(1e300), 10), Some(u64::MAX));
        assert_eq!(
            chunk_size(ChunkSetting::Default, 100 * 1024 * 1024 * 1024),
            Some(10_738_493)
        );
    }

    fn parts(data: &[u8], size: u64) -> Vec<Vec<u8>> {
        let mut reader = PartReader::new(data, size);
        let mut out = Vec::new();
        while let Some(p) = reader.next_part().unwrap() {
            out.push(p);
        }
        assert_eq!(reader.bytes_read(), data.len() as u64);
        out
    }

    #[test]
    fn parts_and_bom() {
        let text = b"{\"author\": \"alice\", \"body\": \"hello\"}\n{\"author\": \"bob\", \"body\": \"world\"}\n";
        let p = parts(text, 24);
        assert_eq!(p.len(), 3);
        assert!(p.iter().all(|p| p.len() == 24));
        assert_eq!(p.concat(), text);
        assert!(parts(b"", 24).is_empty());
        assert_eq!(parts(b"abc", 24), vec![b"abc".to_vec()]);
        // The mark goes from the first part only.
        let with_bom = [&BOM[..], b"abcdef", &BOM[..]].concat();
        let p = parts(&with_bom, 6);
        assert_eq!(p[0], b"abc");
        assert_eq!(p[1], [b"def", &BOM[..]].concat());
        // Only the mark: one empty part, as Node's reader gives one chunk.
        assert_eq!(parts(&BOM, 24), vec![Vec::<u8>::new()]);
        // Parts under 3 bytes cannot hold the mark: it is uploaded, as the
        // official CLI does (found by fuzzing).
        assert_eq!(
            parts(&[&BOM[..], b"a"].concat(), 2),
            vec![vec![0xef, 0xbb], vec![0xbf, b'a']]
        );
        // Exactly one chunk: no empty trailing part.
        assert_eq!(parts(b"abcd", 2).len(), 2);
    }

    #[test]
    fn sniffing() {
        use ImportFormat::*;
        assert_eq!(sniff(JsonArray, b" [{\"a\": 1}]", 11), None);
        assert!(
            sniff(JsonArray, b"{\"a\": 1}\n", 9)
                .unwrap()
                .contains("jsonLines")
        );
        assert_eq!(sniff(JsonLines, b"{\"a\": 1}\n", 9), None);
        assert!(sniff(JsonLines, b"[1]", 3).unwrap().contains("jsonArray"));
        assert_eq!(sniff(Zip, b"PK\x03\x04rest", 8), None);
        assert!(sniff(Zip, b"{}", 2).is_some());
        assert_eq!(sniff(Csv, b"a,b\n1,2\n", 8), None);
        assert!(sniff(Csv, b"\n1,2\n", 5).is_some());
        assert!(sniff(Csv, b"a\0b", 3).is_some());
        assert!(sniff(Csv, b"", 0).unwrap().contains("empty"));
        assert_eq!(sniff(JsonLines, &[&BOM[..], b"{}"].concat(), 5), None);
    }

    #[test]
    fn sizes_like_format_size() {
        assert_eq!(format_size(0), "0 bytes");
        assert_eq!(format_size(72), "72 bytes");
        assert_eq!(format_size(1024), "1 KiB");
        assert_eq!(format_size(1536), "1.5 KiB");
        assert_eq!(format_size(4 * 1024 * 1024 + 100 * 1024), "4.1 MiB");
        assert_eq!(format_size(1024 * 1024 - 1), "1 MiB");
        assert_eq!(format_size(128 * 1024 * 1024), "128 MiB");
    }
}
