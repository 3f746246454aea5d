//! The resource graph: one node per declared resource, an edge from each dependency to its
//! dependent (from outputs passed as inputs, and from `depends_on`).

use std::collections::BTreeSet;
use std::fmt::Write;

use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::stack::{DependsOn, Stack};

/// The declared resources' dependency graph. Node `i` is declaration `i`.
pub struct ResourceGraph {
    pub(crate) graph: DiGraph<(), ()>,
    /// Declarations in an order where every dependency comes before its dependents.
    pub(crate) order: Vec<usize>,
}

impl ResourceGraph {
    /// Builds the graph; a dependency cycle or an unknown `depends_on` name is an error.
    pub fn build(stack: &Stack) -> Result<ResourceGraph, Vec<String>> {
        let n = stack.resources.len();
        let mut graph = DiGraph::with_capacity(n, n * 2);
        for _ in 0..n {
            graph.add_node(());
        }
        let mut errors = Vec::new();
        for (i, decl) in stack.resources.iter().enumerate() {
            let mut deps = BTreeSet::new();
            for (_, prop) in &decl.properties {
                deps.extend(prop.dependencies().map(|d| d.0));
            }
            for d in &decl.depends_on {
                match d {
                    DependsOn::Resource(r) => {
                        deps.insert(r.0);
                    }
                    DependsOn::Name(name) => match stack.index_of(name) {
                        Some(j) => {
                            deps.insert(j);
                        }
                        None => errors.push(format!(
                            "resource '{}' depends on '{name}', which the program does not declare",
                            decl.name
                        )),
                    },
                }
            }
            for d in deps {
                graph.add_edge(NodeIndex::new(d), NodeIndex::new(i), ());
            }
        }
        // tarjan_scc yields components in reverse topological order: reversed, dependencies
        // come first.
        let sccs = tarjan_scc(&graph);
        for scc in &sccs {
            let self_loop = scc.len() == 1 && graph.contains_edge(scc[0], scc[0]);
            if scc.len() > 1 || self_loop {
                let mut names: Vec<&str> = scc
                    .iter()
                    .map(|n| stack.resources[n.index()].name.as_str())
                    .collect();
                names.sort_unstable();
                errors.push(format!(
                    "dependency cycle between resources: {}",
                    names.join(", ")
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let order = sccs.iter().rev().map(|scc| scc[0].index()).collect();
        Ok(ResourceGraph { graph, order })
    }

    /// The resources declaration `i` depends on.
    pub fn dependencies(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.graph
            .neighbors_directed(NodeIndex::new(i), Direction::Incoming)
            .map(|n| n.index())
    }

    /// Graphviz DOT of the graph, edges pointing from dependency to dependent; an edge of
    /// `depends_on` is dashed.
    pub fn to_dot(&self, stack: &Stack) -> String {
        let mut out = String::from("digraph resources {\n  rankdir=LR;\n  node [shape=box];\n");
        for (i, d) in stack.resources.iter().enumerate() {
            let _ = writeln!(
                out,
                "  n{i} [label=\"{}\\n{}\"];",
                dot_escape(&d.name),
                dot_escape(d.ty)
            );
        }
        for e in self.graph.raw_edges() {
            let (from, to) = (e.source().index(), e.target().index());
            let style = if names_in_depends_on(stack, to, from) {
                " [style=dashed]"
            } else {
                ""
            };
            let _ = writeln!(out, "  n{from} -> n{to}{style};");
        }
        out.push_str("}\n");
        out
    }
}

/// Whether declaration `dependent` names declaration `dependency` in its `depends_on`: what it
/// needs ready, not merely made (see `Readiness`).
pub(crate) fn names_in_depends_on(stack: &Stack, dependent: usize, dependency: usize) -> bool {
    stack.resources[dependent]
        .depends_on
        .iter()
        .any(|d| match d {
            DependsOn::Resource(r) => r.0 == dependency,
            DependsOn::Name(n) => stack.index_of(n) == Some(dependency),
        })
}

/// Text safe inside a DOT quoted string: quotes and backslashes escaped, line breaks dropped,
/// so a name cannot close the label and add statements of its own.
fn dot_escape(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_name_cannot_break_out_of_its_dot_label() {
        assert_eq!(
            super::dot_escape("web\"]; evil [label=\"x\\"),
            "web\\\"]; evil [label=\\\"x\\\\"
        );
        assert_eq!(super::dot_escape("a\nb"), "ab");
    }
}
