//! What `convex import` reads of its input before uploading it
//! (`snapshot::import_file`), on arbitrary bytes:
//! - the parts put back together are the file minus a leading byte-order
//!   mark (kept when parts are under 3 bytes, as the reference does); every part but the last is exactly the part size (the first
//!   minus the mark), none is empty unless the file is only the mark, and the
//!   count is `ceil(len / size)`;
//! - the part size is never so small that a file needs 10,000 parts;
//! - `extname` gives `""` or a `.…` suffix of the last path component, and
//!   the format is `--format` when given, else the extension's;
//! - `parseInt` and the first-bytes check never panic; `parseInt` gives a
//!   whole number, only when there is a digit.
#![no_main]

use convex_cli::snapshot::import_file::{
    BOM, ChunkSetting, ImportFormat, PartReader, chunk_size, determine_format, extname, parse_int,
    sniff,
};
use libfuzzer_sys::fuzz_target;

const FORMATS: [ImportFormat; 4] = [
    ImportFormat::Csv,
    ImportFormat::JsonLines,
    ImportFormat::JsonArray,
    ImportFormat::Zip,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some((&path_len, rest)) = rest.split_first() else {
        return;
    };
    let (path_bytes, file) = rest.split_at(usize::from(path_len % 32).min(rest.len()));
    let size = u64::from(selector % 64) + 1;

    // Parts.
    let mut reader = PartReader::new(file, size);
    let mut parts = Vec::new();
    while let Some(part) = reader.next_part().unwrap() {
        parts.push(part);
    }
    // As in the official CLI, the mark is dropped only when the first part
    // holds all of it: with parts of 1 or 2 bytes it is uploaded as is.
    let has_bom = size >= 3 && file.starts_with(&BOM);
    let expected = if has_bom { &file[3..] } else { file };
    assert_eq!(parts.concat(), expected);
    assert_eq!(parts.len() as u64, (file.len() as u64).div_ceil(size));
    assert_eq!(reader.bytes_read(), file.len() as u64);
    for (i, part) in parts.iter().enumerate() {
        let full = if i == 0 && has_bom { size - 3 } else { size };
        if i + 1 < parts.len() {
            assert_eq!(part.len() as u64, full, "part {i}");
        } else {
            assert!(part.len() as u64 <= full);
            assert!(!part.is_empty() || (has_bom && file == BOM), "empty last part");
        }
    }

    // Part size: at most 9,999 parts for any file size.
    let text = String::from_utf8_lossy(path_bytes);
    let setting = ChunkSetting::parse(Some(&text));
    let len = u64::from_le_bytes({
        let mut b = [0u8; 8];
        let n = file.len().min(8);
        b[..n].copy_from_slice(&file[..n]);
        b
    });
    match (setting, chunk_size(setting, len)) {
        (ChunkSetting::NotANumber, got) => assert_eq!(got, None),
        (_, Some(c)) => assert!(c >= 1 && len.div_ceil(c) <= 9999, "{len} / {c}"),
        (_, None) => panic!("no size for {setting:?}"),
    }
    if let Some(v) = parse_int(&text) {
        assert!(v.is_finite() && v.fract() == 0.0);
        assert!(text.bytes().any(|b| b.is_ascii_digit()));
    }

    // Format.
    let ext = extname(&text);
    if !ext.is_empty() {
        assert!(ext.starts_with('.'));
        // Separators: `/`, and `\\` on Windows only (as Node's path module).
        let separators: &[char] = if cfg!(windows) { &['/', '\\'] } else { &['/'] };
        let trimmed = text.trim_end_matches(separators);
        assert!(trimmed.ends_with(ext), "{text:?} -> {ext:?}");
        assert!(!ext.contains(separators));
    }
    let flag = (selector & 0x80 != 0).then(|| FORMATS[usize::from(selector >> 5) & 3]);
    let choice = determine_format(&text, flag);
    match flag {
        Some(f) => assert_eq!(choice.format, Some(f)),
        None => assert_eq!(choice.format, ImportFormat::from_extension(ext)),
    }
    for format in FORMATS {
        let _ = sniff(format, file, file.len() as u64);
    }
});
