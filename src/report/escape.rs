//! Escaping for text that comes from the plan. Resource names, member strings and labels are
//! written by whoever opened the pull request; they must not be able to move the cursor, rewrite
//! the screen, set the clipboard (OSC 52), plant links (OSC 8) or reorder text (bidi overrides).

use std::borrow::Cow;

/// Characters that change how a terminal or a reader sees the text around them.
fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// For terminal and plain-text output: every control, bidi and zero-width character becomes a
/// visible `\u{…}` escape. Plain text is returned unchanged without copying.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_dangerous) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_dangerous(c) {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralises_escape_sequences() {
        assert_eq!(terminal("api"), "api");
        assert_eq!(terminal("a\x1b[2Jb"), "a\\u{001b}[2Jb");
        assert_eq!(
            terminal("x\x1b]52;c;ZXZpbA==\x07"),
            "x\\u{001b}]52;c;ZXZpbA==\\u{0007}"
        );
        assert_eq!(terminal("r\rn"), "r\\u{000d}n");
        assert_eq!(terminal("\u{202e}gnp"), "\\u{202e}gnp");
        assert_eq!(terminal("a\u{200b}b"), "a\\u{200b}b");
        assert_eq!(terminal("\u{9b}31m"), "\\u{009b}31m");
    }
}
