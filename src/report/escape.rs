//! Escaping for text that comes from the plan. Resource names, member strings and labels are
//! written by whoever opened the pull request; they must not be able to move the cursor, rewrite
//! the screen, set the clipboard (OSC 52), plant links (OSC 8) or reorder text (bidi overrides)
//! in a terminal, nor inject markup, ping people, link issues, hide text or break a table in a
//! pull-request comment.

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

/// GitHub's word characters: an `@` or `#` after one of them starts no mention or reference.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The GitHub post-processing that runs on rendered text wherever it stands (in Markdown and
/// in raw HTML alike) and that a plan author could trigger: `@user` / `@org/team` mentions
/// notify people, `#123` and `owner/repo#123` references link (and cross-reference) issues.
/// Each is broken by a zero-width space written as the entity `&#8203;`, so the comment's source
/// holds no invisible character, the rendered text still reads `@octocat`, and nothing links.
/// Bare `http://…` and `www.…` would be autolinked: the `:` or the `.` becomes an entity, which
/// reads the same and links nothing.
/// Returns the replacement for `chars[i]`, or `None` to keep it.
fn break_reference(chars: &[char], i: usize) -> Option<&'static str> {
    let next = chars.get(i + 1).copied();
    match chars[i] {
        '@' if (i == 0 || !is_word(chars[i - 1])) && next.is_some_and(is_word) => Some("@&#8203;"),
        '#' if next.is_some_and(|c| c.is_ascii_digit()) => Some("#&#8203;"),
        ':' if chars[i + 1..].starts_with(&['/', '/']) => Some("&#58;"),
        '.' if i >= 3
            && chars[i - 3..i]
                .iter()
                .collect::<String>()
                .eq_ignore_ascii_case("www") =>
        {
            Some("&#46;")
        }
        _ => None,
    }
}

/// For text inside raw HTML in a comment (a `<summary>`): visible escapes for control, bidi and
/// zero-width characters, HTML's special characters as entities, mentions, references and
/// autolinks broken. Markdown is not parsed inside an HTML block, so nothing else is special
/// there.
pub fn html(s: &str) -> String {
    let chars: Vec<char> = terminal(s).chars().collect();
    let mut out = String::with_capacity(chars.len() + 16);
    for i in 0..chars.len() {
        if let Some(r) = break_reference(&chars, i) {
            out.push_str(r);
            continue;
        }
        match chars[i] {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// For plan text inline in GitHub-flavoured Markdown: a paragraph, a list item or a table cell.
/// On top of [`html`]'s escapes: `|` becomes an entity, so no cell ends early (a backslash
/// would not do inside a code span); the characters of emphasis, code spans, links, images,
/// strikethrough and math are backslash-escaped; a first character that could open a block
/// (`#`, `-`, `+`, `>`, `=`, `1.`, `1)`) is escaped. Newlines are already visible `\u{000a}` escapes, so a value stays on
/// its line and in its cell.
pub fn markdown(s: &str) -> String {
    let chars: Vec<char> = terminal(s).chars().collect();
    let mut out = String::with_capacity(chars.len() + 16);
    // Leading digits then `.` or `)` open an ordered list: that punctuation is escaped.
    let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    for i in 0..chars.len() {
        if let Some(r) = break_reference(&chars, i) {
            // `#1` at the start would still open a heading.
            if i == 0 && chars[0] == '#' {
                out.push('\\');
            }
            out.push_str(r);
            continue;
        }
        let c = chars[i];
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '|' => out.push_str("&#124;"),
            '\\' | '`' | '*' | '_' | '~' | '[' | ']' | '$' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '#' | '-' | '+' | '=' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            '.' | ')' if i == digits && digits > 0 => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// The fence for a fenced code block holding `content`: longer than any run of backticks in it,
/// so no line of the content can close the block early.
pub fn code_fence(content: &str) -> String {
    let longest = content.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// For a Mermaid node label written between double quotes (`n1["…"]`): every character other
/// than letters, digits, space and `._-/:@` becomes a Mermaid entity code (`#35;`, `#34;`), so
/// a label cannot close its quotes, its node or its code block, open a Markdown string or a
/// directive, or carry HTML into the drawing.
pub fn mermaid(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in terminal(s).chars() {
        if c.is_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-' | '/' | ':' | '@') {
            out.push(c);
        } else {
            out.push_str(&format!("#{};", c as u32));
        }
    }
    out
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

    #[test]
    fn html_escapes_markup_and_breaks_mentions() {
        assert_eq!(html("api"), "api");
        assert_eq!(
            html("</summary><script>x</script>"),
            "&lt;/summary&gt;&lt;script&gt;x&lt;/script&gt;"
        );
        assert_eq!(html("a & \"b\" 'c'"), "a &amp; &quot;b&quot; &#39;c&#39;");
        assert_eq!(html("@octocat"), "@&#8203;octocat");
        assert_eq!(html("user:@acme/admins"), "user:@&#8203;acme/admins");
        // An email is no mention: GitHub needs a non-word character before `@`.
        assert_eq!(html("alice@acme.com"), "alice@acme.com");
        assert_eq!(html("fixes #12"), "fixes #&#8203;12");
        assert_eq!(html("acme/repo#3"), "acme/repo#&#8203;3");
        assert_eq!(html("#tag"), "#tag");
        assert_eq!(html("a\nb"), "a\\u{000a}b");
        assert_eq!(html("a\u{200b}b"), "a\\u{200b}b");
        assert_eq!(html("http://x www.y"), "http&#58;//x www&#46;y");
    }

    #[test]
    fn markdown_escapes_inline_syntax() {
        assert_eq!(
            markdown("google_cloud_run_v2_service.api"),
            "google\\_cloud\\_run\\_v2\\_service.api"
        );
        assert_eq!(markdown("a|b"), "a&#124;b");
        assert_eq!(markdown("`x`"), "\\`x\\`");
        assert_eq!(markdown("```"), "\\`\\`\\`");
        assert_eq!(
            markdown("[x](javascript:alert(1))"),
            "\\[x\\](javascript:alert(1))"
        );
        assert_eq!(markdown("![i](u)"), "\\!\\[i\\](u)");
        assert_eq!(markdown("*b* ~s~ $m$"), "\\*b\\* \\~s\\~ \\$m\\$");
        assert_eq!(markdown("<!-- x -->"), "&lt;\\!-- x --&gt;");
        assert_eq!(markdown("a\\b"), "a\\\\b");
        assert_eq!(markdown("@octocat"), "@&#8203;octocat");
        assert_eq!(markdown("://x"), "&#58;//x");
        assert_eq!(markdown("see #1"), "see #&#8203;1");
        assert_eq!(markdown("https://evil.example"), "https&#58;//evil.example");
        assert_eq!(markdown("WWW.evil.example"), "WWW&#46;evil.example");
        assert_eq!(markdown("a\r\nb"), "a\\\\u{000d}\\\\u{000a}b");
    }

    #[test]
    fn markdown_escapes_what_would_open_a_block() {
        assert_eq!(markdown("# h"), "\\# h");
        assert_eq!(markdown("#1"), "\\#&#8203;1");
        assert_eq!(markdown("- item"), "\\- item");
        assert_eq!(markdown("+ item"), "\\+ item");
        assert_eq!(markdown("> quote"), "&gt; quote");
        assert_eq!(markdown("=="), "\\==");
        assert_eq!(markdown("12. item"), "12\\. item");
        assert_eq!(markdown("3) item"), "3\\) item");
        assert_eq!(markdown("a-b"), "a-b");
        assert_eq!(markdown("v1.2"), "v1.2");
    }

    #[test]
    fn code_fences_outgrow_the_content() {
        assert_eq!(code_fence("plain"), "```");
        assert_eq!(code_fence(" ```\n"), "````");
        assert_eq!(code_fence("a ````` b"), "``````");
    }

    #[test]
    fn mermaid_labels_cannot_break_out() {
        assert_eq!(mermaid("api-runtime@acme.iam"), "api-runtime@acme.iam");
        assert_eq!(mermaid("a\"]\nb"), "a#34;#93;#92;u#123;000a#125;b");
        assert_eq!(mermaid("<b>`x`#;"), "#60;b#62;#96;x#96;#35;#59;");
        assert_eq!(
            mermaid("module.api[\"eu\"]"),
            "module.api#91;#34;eu#34;#93;"
        );
        assert_eq!(mermaid("café"), "café");
    }
}
