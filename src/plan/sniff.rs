//! Recognises what an input is before it is parsed as a plan: text encoding (UTF-8, UTF-16 with
//! or without a byte-order mark), binary plans, markup, the UI log stream, and the lines that the
//! `hashicorp/setup-terraform` wrapper adds around stdout.

use std::borrow::Cow;

use super::error::InputError;

/// Decodes the raw bytes to text, and rejects inputs that are recognisably not a JSON plan.
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, InputError> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Err(InputError::BinaryPlan);
    }
    // A UTF-8 file is trimmed where it lies, never copied (nor checked a second time).
    Ok(match decode_text(bytes)? {
        Cow::Borrowed(text) => Cow::Borrowed(plan_text(text)?),
        Cow::Owned(text) => Cow::Owned(plan_text(&text)?.to_owned()),
    })
}

/// The plan in `text`, without a byte-order mark or the lines a wrapper adds.
fn plan_text(text: &str) -> Result<&str, InputError> {
    let trimmed = strip_wrapper_lines(text.trim_start_matches('\u{feff}'));
    let body = trimmed.trim_start();
    if body.is_empty() {
        return Err(InputError::Empty);
    }
    if body.starts_with('<') {
        return Err(InputError::Markup);
    }
    if looks_like_ui_stream(body) {
        return Err(InputError::UiStream);
    }
    Ok(trimmed)
}

fn decode_text(bytes: &[u8]) -> Result<Cow<'_, str>, InputError> {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return decode_utf16(rest, u16::from_le_bytes).map(Cow::Owned);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return decode_utf16(rest, u16::from_be_bytes).map(Cow::Owned);
    }
    // UTF-16 without a byte-order mark: JSON starts with ASCII, so one of each pair of the first
    // bytes is NUL.
    if bytes.len() >= 4 && bytes[0] != 0 && bytes[1] == 0 && bytes[3] == 0 {
        return decode_utf16(bytes, u16::from_le_bytes).map(Cow::Owned);
    }
    if bytes.len() >= 4 && bytes[0] == 0 && bytes[1] != 0 && bytes[2] == 0 {
        return decode_utf16(bytes, u16::from_be_bytes).map(Cow::Owned);
    }
    std::str::from_utf8(bytes)
        .map(Cow::Borrowed)
        .map_err(|e| InputError::InvalidText {
            detail: format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        })
}

fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, InputError> {
    if bytes.len() % 2 != 0 {
        return Err(InputError::InvalidText {
            detail: "UTF-16 input with an odd number of bytes".into(),
        });
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|e| InputError::InvalidText {
            detail: format!("invalid UTF-16 ({e})"),
        })
}

/// `hashicorp/setup-terraform` wraps the terraform binary and, unless `terraform_wrapper: false`,
/// prints a `[command]...` line before stdout and `::debug::`/`::set-output` lines after it.
/// Users redirect that stdout into plan.json; the JSON in between is intact.
fn strip_wrapper_lines(text: &str) -> &str {
    if !text.starts_with("[command]") {
        return text;
    }
    let body = text.split_once('\n').map_or("", |(_, rest)| rest);
    match body.find("\n::") {
        Some(end) => &body[..end],
        None => body,
    }
}

/// The UI stream is JSON Lines whose objects carry `@level` and `@message`. Only the start of
/// the first line is looked at: a compact plan is one line of hundreds of megabytes.
fn looks_like_ui_stream(body: &str) -> bool {
    let end = body.len().min(4096);
    let end = (0..=end)
        .rev()
        .find(|&i| body.is_char_boundary(i))
        .unwrap_or(0);
    let head = &body[..end];
    let first_line = head.lines().next().unwrap_or_default();
    first_line.starts_with('{')
        && first_line.contains("\"@level\"")
        && first_line.contains("\"@message\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16le_with_bom_decodes() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "{\"a\":1}".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decode(&bytes).unwrap(), "{\"a\":1}");
    }

    #[test]
    fn utf16le_without_bom_decodes() {
        let bytes: Vec<u8> = "{\"a\":1}"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(decode(&bytes).unwrap(), "{\"a\":1}");
    }

    #[test]
    fn wrapper_lines_are_removed() {
        let text =
            "[command]/usr/bin/terraform show -json tfplan\n{\"x\":1}\n::debug::exitcode: 0\n";
        assert_eq!(decode(text.as_bytes()).unwrap(), "{\"x\":1}");
    }

    #[test]
    fn recognises_non_plans() {
        assert_eq!(decode(b"PK\x03\x04rest"), Err(InputError::BinaryPlan));
        assert_eq!(decode(b"  \n"), Err(InputError::Empty));
        assert_eq!(decode(b"\xEF\xBB\xBF"), Err(InputError::Empty));
        assert_eq!(decode(b"<html>"), Err(InputError::Markup));
        assert_eq!(
            decode(b"{\"@level\":\"info\",\"@message\":\"Terraform 1.9.8\"}\n{}"),
            Err(InputError::UiStream)
        );
        assert!(matches!(
            decode(b"\xff\xff\xff\xff"),
            Err(InputError::InvalidText { .. })
        ));
    }
}
