//! What a credential in an environment variable looks like: the name judged by its words, the
//! value by its shape. Substrings are not enough: `OAUTH_TOKEN_URL` names a URL and
//! `PASSWORD_MIN_LENGTH` a number, although both contain a credential word.

/// Words that name a credential.
const CREDENTIAL_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASS",
    "PWD",
    "PASSPHRASE",
    "SECRET",
    "SECRETS",
    "TOKEN",
    "APIKEY",
    "CREDENTIAL",
    "CREDENTIALS",
    "CREDS",
];

/// Words that make `KEY` a credential when they come right before it (`API_KEY`, `privateKey`).
const KEY_QUALIFIERS: &[&str] = &[
    "API",
    "PRIVATE",
    "ACCESS",
    "SIGNING",
    "ENCRYPTION",
    "SECRET",
    "MASTER",
    "CLIENT",
    "HMAC",
    "AUTH",
    "SERVICE",
    "LICENSE",
];

/// Last words that make a name a setting about something, not the thing itself:
/// `OAUTH_TOKEN_URL`, `SECRET_MANAGER_PROJECT`, `PASSWORD_MIN_LENGTH`, `DB_PASSWORD_FILE`.
const SETTING_WORDS: &[&str] = &[
    "URL",
    "URI",
    "URLS",
    "PROJECT",
    "LENGTH",
    "LEN",
    "NAME",
    "NAMES",
    "PATH",
    "DIR",
    "ID",
    "IDS",
    "FILE",
    "HOST",
    "PORT",
    "REGION",
    "ZONE",
    "LOCATION",
    "ENDPOINT",
    "VERSION",
    "TTL",
    "TIMEOUT",
    "ENABLED",
    "DISABLED",
    "ENABLE",
    "DISABLE",
    "COUNT",
    "SIZE",
    "LIMIT",
    "MIN",
    "MAX",
    "LEVEL",
    "MODE",
    "TYPE",
    "FORMAT",
    "PREFIX",
    "SUFFIX",
    "HEADER",
    "FIELD",
    "PARAM",
    "ALGORITHM",
    "ALG",
    "ISSUER",
    "AUDIENCE",
    "SCOPE",
    "SCOPES",
    "EXPIRY",
    "EXPIRATION",
    "LIFETIME",
    "DURATION",
    "INTERVAL",
    "RETRIES",
    "BUCKET",
    "TOPIC",
    "EMAIL",
    "USER",
    "USERNAME",
    "REF",
    "ROTATION",
];

/// The words of a name: split on `_`, `-`, `.` and camelCase boundaries, upper-cased.
/// `oauthTokenURL` gives `OAUTH`, `TOKEN`, `URL`.
pub fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1);
        // A new word starts at `aB` and at the last capital of `URLPath` (`URL` + `Path`).
        let boundary = c.is_ascii_uppercase()
            && prev.is_some_and(|p| {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
            });
        if boundary && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        current.push(c.to_ascii_uppercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// An environment variable name that says it carries a credential: it has a credential word
/// (`DB_PASSWORD`, `githubToken`, `STRIPE_API_KEY`) and does not end in a setting word.
pub fn is_secret_like(name: &str) -> bool {
    let words = words(name);
    let Some(last) = words.last() else {
        return false;
    };
    if SETTING_WORDS.contains(&last.as_str()) {
        return false;
    }
    words.iter().enumerate().any(|(i, w)| {
        CREDENTIAL_WORDS.contains(&w.as_str())
            || (w == "KEY" && i > 0 && KEY_QUALIFIERS.contains(&words[i - 1].as_str()))
    })
}

/// A value whose shape says it is a setting, not a credential: a URL without credentials in
/// it, a number, a boolean, or a short identifier (`my-proj`, `us-central1`,
/// `projects/p/secrets/db`). A random token, a passphrase or a URL with a password is not.
pub fn looks_like_setting(value: &str) -> bool {
    let v = value.trim();
    is_bool(v) || is_number(v) || is_plain_url(v) || is_identifier(v)
}

fn is_bool(v: &str) -> bool {
    ["true", "false", "yes", "no", "on", "off"]
        .iter()
        .any(|b| v.eq_ignore_ascii_case(b))
}

/// `12`, `-3`, `0.5`, and durations or sizes such as `30s`, `500ms`, `512Mi`.
fn is_number(v: &str) -> bool {
    let digits = v.trim_start_matches(['-', '+']);
    let end = digits
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(digits.len());
    let (number, unit) = digits.split_at(end);
    !number.is_empty()
        && number.chars().any(|c| c.is_ascii_digit())
        && number.matches('.').count() <= 1
        && [
            "", "s", "ms", "m", "h", "d", "k", "K", "M", "G", "Ki", "Mi", "Gi", "%",
        ]
        .contains(&unit)
}

/// `scheme://host/path` with no user info (`user:password@`) and no query string, which can
/// carry a key (`?key=`, `?sig=`).
fn is_plain_url(v: &str) -> bool {
    let Some((scheme, rest)) = v.split_once("://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !authority.contains('@')
        && !rest.contains('?')
        && !rest.contains(char::is_whitespace)
}

/// Lower-case words joined by `-`, `_`, `.`, `/` or `:`, with at least one separator, each
/// part short: names of projects, regions, buckets, resources. A long part is a token
/// (`sk_live_…`, `ghp_…`), and so is a part that mixes case.
fn is_identifier(v: &str) -> bool {
    const MAX_LEN: usize = 64;
    const MAX_PART: usize = 15;
    let separators = ['-', '_', '.', '/', ':'];
    v.len() <= MAX_LEN
        && v.contains(separators)
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || separators.contains(&c))
        && v.split(separators).all(|part| part.len() <= MAX_PART)
        && v.split(separators)
            .any(|part| part.chars().any(|c| c.is_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_split_into_words() {
        assert_eq!(words("OAUTH_TOKEN_URL"), ["OAUTH", "TOKEN", "URL"]);
        assert_eq!(words("oauthTokenURL"), ["OAUTH", "TOKEN", "URL"]);
        assert_eq!(words("dbPassword"), ["DB", "PASSWORD"]);
        assert_eq!(words("URLPath"), ["URL", "PATH"]);
        assert_eq!(words("api-key.v2"), ["API", "KEY", "V2"]);
        assert!(words("__").is_empty());
    }

    #[test]
    fn credential_names() {
        for n in [
            "DB_PASSWORD",
            "DB_PASS",
            "PASS",
            "MYSQL_PWD",
            "stripe_api_key",
            "STRIPE_APIKEY",
            "GITHUB_TOKEN",
            "githubToken",
            "client_secret",
            "ClientSecret",
            "JWT_SIGNING_KEY",
            "PRIVATE_KEY",
            "privateKey",
            "AWS_SECRET_ACCESS_KEY",
            "GOOGLE_CREDENTIALS",
            "SECRET_KEY_BASE",
            "SECRET",
            "auth-token",
            "REFRESH_TOKEN",
            "PASSWORD_SALT",
        ] {
            assert!(is_secret_like(n), "{n} should be a credential name");
        }
    }

    #[test]
    fn setting_names() {
        for n in [
            "OAUTH_TOKEN_URL",
            "SECRET_MANAGER_PROJECT",
            "PASSWORD_MIN_LENGTH",
            "DB_PASSWORD_FILE",
            "API_KEY_ID",
            "AWS_ACCESS_KEY_ID",
            "TOKEN_TTL",
            "TOKEN_ENDPOINT",
            "SECRET_NAME",
            "SECRET_PATH",
            "secretVersion",
            "tokenTimeout",
            "PASSWORD_RESET_ENABLED",
            "TOKEN_ISSUER",
            "PORT",
            "LOG_LEVEL",
            "PASSAGE_COUNT",
            "PASSENGER_NAME",
            "TOKENIZER_MODEL",
            "KEYBOARD_LAYOUT",
            "CACHE_KEY",
            "SECRETARY_EMAIL",
            "",
        ] {
            assert!(!is_secret_like(n), "{n} should be a setting name");
        }
    }

    #[test]
    fn setting_shaped_values() {
        for v in [
            "https://oauth2.googleapis.com/token",
            "http://localhost:8080/callback",
            "my-proj",
            "us-central1",
            "projects/acme-prod/secrets/db-password",
            "12",
            "-1",
            "0.75",
            "30s",
            "512Mi",
            "true",
            "FALSE",
            "off",
            "acme.example.com",
        ] {
            assert!(looks_like_setting(v), "{v} should look like a setting");
        }
    }

    #[test]
    fn credential_shaped_values() {
        for v in [
            "hunter2",
            "changeme",
            "Tr0ub4dor&3",
            "sk_live_51H8a2kLmQeR7tYzXw9",
            "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
            "AKIAIOSFODNN7EXAMPLE",
            "postgres://app:s3cret@db.internal:5432/app",
            "https://hooks.example.com/services?token=abc",
            "correct horse battery staple",
            "-----BEGIN PRIVATE KEY-----",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
        ] {
            assert!(!looks_like_setting(v), "{v} should not look like a setting");
        }
    }
}
