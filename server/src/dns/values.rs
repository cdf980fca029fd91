//! A record set's values: sorted, without duplicates, in one exact-size allocation.
//!
//! A `BTreeSet<String>` allocates a whole node (eleven slots, about 280 bytes) even for the
//! single address most records hold; with 10,000 records, three resolvers and the answers kept
//! per record, those nodes were tens of megabytes. Set operations here are merges and binary
//! searches over the sorted slice.

use std::fmt;

/// Sorted, deduplicated values of one record set (declared, answered or a failover pool).
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Values(Box<[String]>);

impl Values {
    /// No values.
    pub fn new() -> Values {
        Values::default()
    }

    /// Adds one value, keeping the order; a value already present is not added twice.
    pub fn insert(&mut self, value: String) -> bool {
        match self.0.binary_search(&value) {
            Ok(_) => false,
            Err(at) => {
                let mut values = std::mem::take(&mut self.0).into_vec();
                values.insert(at, value);
                self.0 = values.into_boxed_slice();
                true
            }
        }
    }

    /// Whether `value` is one of them.
    pub fn contains(&self, value: &str) -> bool {
        self.0.binary_search_by(|v| v.as_str().cmp(value)).is_ok()
    }

    /// How many values.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The values in order.
    pub fn iter(&self) -> std::slice::Iter<'_, String> {
        self.0.iter()
    }

    /// The values not in `other`, in order.
    pub fn difference<'a>(&'a self, other: &'a Values) -> impl Iterator<Item = &'a String> + 'a {
        self.0.iter().filter(move |v| !other.contains(v))
    }

    /// Whether every value is also in `other`.
    pub fn is_subset(&self, other: &Values) -> bool {
        self.0.iter().all(|v| other.contains(v))
    }
}

impl FromIterator<String> for Values {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Values {
        let mut values: Vec<String> = iter.into_iter().collect();
        values.sort_unstable();
        values.dedup();
        Values(values.into_boxed_slice())
    }
}

impl<const N: usize> From<[String; N]> for Values {
    fn from(values: [String; N]) -> Values {
        values.into_iter().collect()
    }
}

impl<'a> IntoIterator for &'a Values {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Debug for Values {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(v: &[&str]) -> Values {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn sorted_without_duplicates_whatever_the_input_order() {
        #[rustfmt::skip]
        let cases: Vec<(&[&str], &[&str])> = vec![
            (&[], &[]),
            (&["b", "a", "b"], &["a", "b"]),
            (&["10.0.0.2", "10.0.0.10", "10.0.0.2"], &["10.0.0.10", "10.0.0.2"]),
        ];
        for (input, want) in cases {
            let got = values(input);
            assert_eq!(got.iter().map(String::as_str).collect::<Vec<_>>(), want, "{input:?}");
            assert_eq!((got.len(), got.is_empty()), (want.len(), want.is_empty()), "{input:?}");
            let mut inserted = Values::new();
            for v in input {
                inserted.insert(v.to_string());
            }
            assert_eq!(inserted, got, "insert agrees with collect for {input:?}");
        }
    }

    #[test]
    fn set_operations_match_btreeset() {
        use std::collections::BTreeSet;
        let sets: Vec<&[&str]> = vec![&[], &["a"], &["b"], &["a", "b"], &["a", "c"], &["a", "b", "c"]];
        for a in &sets {
            for b in &sets {
                let (va, vb) = (values(a), values(b));
                let (sa, sb): (BTreeSet<&str>, BTreeSet<&str>) = (a.iter().copied().collect(), b.iter().copied().collect());
                let difference: Vec<&str> = va.difference(&vb).map(String::as_str).collect();
                assert_eq!(difference, sa.difference(&sb).copied().collect::<Vec<_>>(), "{a:?} - {b:?}");
                assert_eq!(va.is_subset(&vb), sa.is_subset(&sb), "{a:?} within {b:?}");
                assert_eq!(va == vb, sa == sb, "{a:?} == {b:?}");
                assert_eq!(b.iter().all(|x| va.contains(x)), b.iter().all(|x| sa.contains(x)), "{a:?} contains {b:?}");
            }
        }
    }
}
