//! Breaking a text block into lines that fit a width, following the Chinese line-breaking rules
//! (行首/行尾禁则, after GB/T 15834 and common typesetting practice): no line starts with closing
//! punctuation (、。，；：？！）」』》〉…), no line ends with opening punctuation (（「『《〈…),
//! and runs of Latin letters and digits (numbers, codes, addresses) are not split.
//!
//! Knows only character widths (through a closure); nothing of PDF or fonts.

/// Characters that may not start a line (closing and pause punctuation, GB/T 15834 §4).
pub const NO_START: &str = "、。，．,.：:；;？?！!）)］]｝}」』〕】》〉”’…—％%·～";

/// Characters that may not end a line (opening punctuation).
pub const NO_END: &str = "（(［[｛{「『〔【《〈“‘";

/// Does `line` break a rule: start with a [`NO_START`] character or end with a [`NO_END`] one?
pub fn breaks_rules(line: &str) -> bool {
    line.chars().next().is_some_and(|c| NO_START.contains(c))
        || line.chars().last().is_some_and(|c| NO_END.contains(c))
}

/// Characters of Latin words, numbers, codes and web addresses (never split).
fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '-' | '_' | '/' | '@' | '*' | '+' | '#' | '.' | ':' | '?' | '=' | '&' | '%' | '~')
}

/// May a line break fall between `a` and `b`?
fn can_break(a: char, b: char) -> bool {
    !(NO_START.contains(b) || NO_END.contains(a) || (word_char(a) && word_char(b)))
}

/// Break `text` into lines of at most `width` (by `char_width`), moving characters across a break
/// until it satisfies the rules. When no such break exists on a line (a very long Latin word, a
/// run of punctuation), the line is cut at the width: overflow is never allowed.
pub fn break_lines(text: &str, width: f32, char_width: &dyn Fn(char) -> f32) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut lines = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        // Longest prefix of chars[start..] that fits (at least one character).
        let mut end = start;
        let mut w = 0.0;
        while let Some(&c) = chars.get(end) {
            let cw = char_width(c);
            if end > start && w + cw > width {
                break;
            }
            w += cw;
            end += 1;
        }
        if end < chars.len() {
            // Move the break back until it is allowed; keep the whole line if none is.
            let mut k = end;
            while k > start + 1 {
                match (chars.get(k - 1), chars.get(k)) {
                    (Some(&a), Some(&b)) if !can_break(a, b) => k -= 1,
                    _ => break,
                }
            }
            if k > start + 1 || chars.get(start).zip(chars.get(k)).is_some_and(|(&a, &b)| can_break(a, b)) {
                end = k;
            }
        }
        // Spaces at a break vanish (Latin text).
        let line: String = chars.get(start..end).unwrap_or_default().iter().collect();
        let trimmed = line.trim_end();
        if !trimmed.is_empty() || lines.is_empty() {
            lines.push(trimmed.to_string());
        }
        start = end;
        while chars.get(start) == Some(&' ') {
            start += 1;
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(c: char) -> f32 {
        if c.is_ascii() {
            0.5
        } else {
            1.0
        }
    }

    /// A line that would start with 、 or ） takes a character from the line before instead.
    #[test]
    fn no_line_starts_with_closing_punctuation() {
        for text in ["一二三四五、六七", "一二三四五）六七", "一二三四五。", "一二三四五…"]
        {
            let lines = break_lines(text, 5.0, &w);
            assert!(lines.iter().all(|l| !breaks_rules(l)), "{text}: {lines:?}");
            assert_eq!(lines.concat(), text);
            assert!(lines.iter().all(|l| l.chars().map(w).sum::<f32>() <= 5.0), "{lines:?}");
        }
    }

    /// A line that would end with （ moves it to the next line.
    #[test]
    fn no_line_ends_with_opening_punctuation() {
        let lines = break_lines("一二三四（五六七）", 5.0, &w);
        assert_eq!(lines, ["一二三四", "（五六七）"]);
    }

    /// The business licence's scope, the case a clerk reported: "（" at a line end, "）" alone.
    #[test]
    fn the_reported_scope_breaks_cleanly() {
        let text = "软件开发；信息技术咨询服务；数据处理和存储支持服务（依法须经批准的项目，经相关部门批准后方可开展经营活动）";
        let lines = break_lines(text, 29.0, &w);
        assert!(lines.iter().all(|l| !breaks_rules(l)), "{lines:?}");
        assert_eq!(lines.concat(), text);
    }

    /// Latin words and numbers stay whole; spaces at the break vanish.
    #[test]
    fn latin_words_are_not_split() {
        let lines = break_lines("核验 https://a.ex/v?id=1.2 核验", 11.0, &w);
        assert_eq!(lines, ["核验", "https://a.ex/v?id=1.2", "核验"]);
        let lines = break_lines("编号 2026123456", 6.0, &w);
        assert_eq!(lines, ["编号", "2026123456"]);
    }
}
