//! HTML escaping for the few pages the server writes by hand (the maintenance page, the
//! banner's who-slot, error pages): one escape, so no page escapes differently.

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_five_characters_that_matter_are_escaped() {
        // (text, escaped)
        let table = [
            ("plain", "plain"),
            ("<script>", "&lt;script&gt;"),
            ("a & b", "a &amp; b"),
            ("\"quoted\" 'single'", "&quot;quoted&quot; &#39;single&#39;"),
            ("é ✓", "é ✓"),
        ];
        for (text, want) in table {
            assert_eq!(super::escape(text), want, "{text}");
        }
    }
}
