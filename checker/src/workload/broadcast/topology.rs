//! The neighbour maps Maelstrom's broadcast workload hands its nodes in `topology`
//! (`--topology`): the same shapes, computed the same way from the run's node ids in order.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A shape of topology, as Maelstrom's `--topology` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// A roughly square grid, each node linked to at most 4 (Maelstrom's default).
    Grid,
    /// One line: each node linked to the one before and the one after.
    Line,
    /// A tree with branch factor 2 (Maelstrom's `tree` is this one too).
    Tree2,
    /// A tree with branch factor 3.
    Tree3,
    /// A tree with branch factor 4.
    Tree4,
    /// Every node linked to every other.
    Total,
}

impl Shape {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Grid => "grid",
            Shape::Line => "line",
            Shape::Tree2 => "tree2",
            Shape::Tree3 => "tree3",
            Shape::Tree4 => "tree4",
            Shape::Total => "total",
        }
    }
}

/// Each node's neighbours in `shape`, for the nodes `ids` in order.
pub fn neighbours(shape: Shape, ids: &[String]) -> BTreeMap<String, Vec<String>> {
    match shape {
        Shape::Grid => grid(ids),
        Shape::Line => line(ids),
        Shape::Tree2 => tree(2, ids),
        Shape::Tree3 => tree(3, ids),
        Shape::Tree4 => tree(4, ids),
        Shape::Total => ids
            .iter()
            .map(|me| {
                (
                    me.clone(),
                    ids.iter().filter(|o| *o != me).cloned().collect(),
                )
            })
            .collect(),
    }
}

/// Rows of `ceil(sqrt(n))` nodes; each node's neighbours below, above, right and left
/// (Maelstrom's order).
fn grid(ids: &[String]) -> BTreeMap<String, Vec<String>> {
    let n = ids.len() as i64;
    let side = (n as f64).sqrt().ceil() as i64;
    let at = |i: i64, j: i64| {
        let index = i * side + j;
        (i >= 0 && (0..side).contains(&j) && index < n).then(|| ids[index as usize].clone())
    };
    let mut map = BTreeMap::new();
    for index in 0..n {
        let (i, j) = (index / side, index % side);
        let around = [at(i + 1, j), at(i - 1, j), at(i, j + 1), at(i, j - 1)];
        map.insert(
            ids[index as usize].clone(),
            around.into_iter().flatten().collect(),
        );
    }
    map
}

/// Each node linked to its predecessor and successor.
fn line(ids: &[String]) -> BTreeMap<String, Vec<String>> {
    if ids.len() < 2 {
        return BTreeMap::new();
    }
    (0..ids.len())
        .map(|i| {
            let before = i.checked_sub(1).map(|b| ids[b].clone());
            let after = ids.get(i + 1).cloned();
            (ids[i].clone(), before.into_iter().chain(after).collect())
        })
        .collect()
}

/// A tree of branch factor `b`: the first node is the root, the rest cut into `b` runs of
/// `ceil((n - 1) / b)`, each a subtree built the same way; a node's neighbours are its
/// parent, then its children.
fn tree(b: usize, ids: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut map = BTreeMap::new();
    subtree(b, ids, None, &mut map);
    map
}

/// Adds the subtree of `ids` (under `parent`) to `map`.
fn subtree(
    b: usize,
    ids: &[String],
    parent: Option<&String>,
    map: &mut BTreeMap<String, Vec<String>>,
) {
    let Some((root, rest)) = ids.split_first() else {
        return;
    };
    let chunk = rest.len().div_ceil(b).max(1);
    let children: Vec<&[String]> = rest.chunks(chunk).collect();
    let mut mine: Vec<String> = parent.cloned().into_iter().collect();
    mine.extend(children.iter().map(|c| c[0].clone()));
    map.insert(root.clone(), mine);
    for child in children {
        subtree(b, child, Some(root), map);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("n{i}")).collect()
    }

    fn of(map: &BTreeMap<String, Vec<String>>, id: &str) -> Vec<String> {
        map[id].clone()
    }

    #[test]
    fn grid_links_each_node_to_at_most_four_as_maelstrom_orders_them() {
        let map = neighbours(Shape::Grid, &ids(25));
        assert_eq!(map.len(), 25);
        assert_eq!(of(&map, "n0"), ["n5", "n1"]);
        assert_eq!(of(&map, "n6"), ["n11", "n1", "n7", "n5"]);
        let small = neighbours(Shape::Grid, &ids(5));
        // side 3: n0 n1 n2 / n3 n4
        assert_eq!(of(&small, "n4"), ["n1", "n3"]);
        assert_eq!(of(&small, "n2"), ["n1"]);
    }

    #[test]
    fn line_total_and_trees_have_maelstroms_shapes() {
        let line = neighbours(Shape::Line, &ids(3));
        assert_eq!(of(&line, "n0"), ["n1"]);
        assert_eq!(of(&line, "n1"), ["n0", "n2"]);
        assert!(neighbours(Shape::Line, &ids(1)).is_empty());
        assert_eq!(of(&neighbours(Shape::Total, &ids(3)), "n1"), ["n0", "n2"]);
        // vec->tree 2 over n0..n6: n0 [n1 [n2 n3]] [n4 [n5 n6]]
        let tree = neighbours(Shape::Tree2, &ids(7));
        assert_eq!(of(&tree, "n0"), ["n1", "n4"]);
        assert_eq!(of(&tree, "n1"), ["n0", "n2", "n3"]);
        assert_eq!(of(&tree, "n6"), ["n4"]);
        let tree = neighbours(Shape::Tree4, &ids(25));
        assert_eq!(of(&tree, "n0"), ["n1", "n7", "n13", "n19"]);
        // Every link goes both ways.
        for shape in [
            Shape::Grid,
            Shape::Line,
            Shape::Tree2,
            Shape::Tree3,
            Shape::Tree4,
        ] {
            let map = neighbours(shape, &ids(25));
            for (a, ns) in &map {
                for b in ns {
                    assert!(map[b].contains(a), "{shape:?}: {a} -> {b}");
                }
            }
        }
    }
}
