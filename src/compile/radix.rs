//! A radix tree over byte strings: each node holds the ids of the patterns whose literal prefix
//! ends there. Walking a request string visits every node whose path is a prefix of it, so one
//! pass collects every pattern that could match (ARNs share long prefixes, which the tree stores
//! once).

/// The tree.
#[derive(Clone, Debug, Default)]
pub struct Radix {
    nodes: Vec<Node>,
}

#[derive(Clone, Debug, Default)]
struct Node {
    /// The edge label from the parent.
    label: Box<[u8]>,
    /// Children, sorted by the first byte of their label (labels of siblings differ in it).
    children: Vec<u32>,
    /// The first byte of each child's label, parallel to `children`.
    firsts: Vec<u8>,
    /// Ids stored at this node.
    items: Vec<u32>,
}

#[allow(dead_code)]
impl Radix {
    /// An empty tree.
    pub fn new() -> Radix {
        Radix {
            nodes: vec![Node::default()],
        }
    }

    fn node(&self, i: u32) -> Option<&Node> {
        self.nodes.get(i as usize)
    }

    fn child_by_byte(&self, node: u32, b: u8) -> Option<(usize, u32)> {
        let n = self.node(node)?;
        let pos = if n.firsts.len() <= 8 {
            n.firsts.iter().position(|f| *f == b)?
        } else {
            n.firsts.binary_search(&b).ok()?
        };
        n.children.get(pos).map(|c| (pos, *c))
    }

    fn push(&mut self, node: Node) -> u32 {
        self.nodes.push(node);
        u32::try_from(self.nodes.len() - 1).unwrap_or(u32::MAX)
    }

    /// Stores `id` under `key`.
    pub fn insert(&mut self, key: &[u8], id: u32) {
        if self.nodes.is_empty() {
            self.nodes.push(Node::default());
        }
        let mut node = 0u32;
        let mut rest = key;
        loop {
            let Some(&first) = rest.first() else {
                if let Some(n) = self.nodes.get_mut(node as usize) {
                    n.items.push(id);
                }
                return;
            };
            match self.child_by_byte(node, first) {
                None => {
                    let child = self.push(Node {
                        label: rest.into(),
                        children: Vec::new(),
                        firsts: Vec::new(),
                        items: vec![id],
                    });
                    self.insert_child(node, child, first);
                    return;
                }
                Some((pos, child)) => {
                    let label = self
                        .node(child)
                        .map(|c| c.label.clone())
                        .unwrap_or_default();
                    let common = label.iter().zip(rest).take_while(|(a, b)| a == b).count();
                    if common == label.len() {
                        node = child;
                        rest = rest.get(common..).unwrap_or_default();
                        continue;
                    }
                    // Split the edge: parent -> mid (common part) -> child (the rest).
                    let mid = self.push(Node {
                        label: label.get(..common).unwrap_or_default().into(),
                        children: vec![child],
                        firsts: label.get(common).copied().into_iter().collect(),
                        items: Vec::new(),
                    });
                    if let Some(c) = self.nodes.get_mut(child as usize) {
                        c.label = label.get(common..).unwrap_or_default().into();
                    }
                    if let Some(slot) = self
                        .nodes
                        .get_mut(node as usize)
                        .and_then(|n| n.children.get_mut(pos))
                    {
                        *slot = mid;
                    }
                    node = mid;
                    rest = rest.get(common..).unwrap_or_default();
                }
            }
        }
    }

    fn insert_child(&mut self, parent: u32, child: u32, first: u8) {
        if let Some(p) = self.nodes.get_mut(parent as usize) {
            let pos = p.firsts.partition_point(|b| *b < first);
            p.children.insert(pos, child);
            p.firsts.insert(pos, first);
        }
    }

    /// Calls `f` with the ids of every node whose path is a prefix of `key` (root first).
    pub fn walk<'a>(&'a self, key: &[u8], mut f: impl FnMut(&'a [u32])) {
        let mut node = 0u32;
        let mut rest = key;
        loop {
            let Some(n) = self.node(node) else { return };
            if !n.items.is_empty() {
                f(&n.items);
            }
            let Some(&first) = rest.first() else { return };
            let Some((_, child)) = self.child_by_byte(node, first) else {
                return;
            };
            let Some(c) = self.node(child) else { return };
            match rest.strip_prefix(&*c.label) {
                Some(r) => {
                    rest = r;
                    node = child;
                }
                None => return,
            }
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the tree holds nothing.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 1 && self.nodes.iter().all(|n| n.items.is_empty())
    }

    /// Approximate heap bytes.
    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self
                .nodes
                .iter()
                .map(|n| {
                    n.label.len()
                        + n.children.capacity() * 4
                        + n.firsts.capacity()
                        + n.items.capacity() * 4
                })
                .sum::<usize>()
    }

    /// Deterministic text dump: one line per stored prefix, `prefix -> ids`, sorted.
    pub fn dump(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack: Vec<(u32, Vec<u8>)> = vec![(0, Vec::new())];
        while let Some((i, path)) = stack.pop() {
            let Some(n) = self.node(i) else { continue };
            if !n.items.is_empty() {
                out.push(format!(
                    "{:?} -> {:?}",
                    String::from_utf8_lossy(&path),
                    n.items
                ));
            }
            for c in n.children.iter().rev() {
                if let Some(cn) = self.node(*c) {
                    let mut p = path.clone();
                    p.extend_from_slice(&cn.label);
                    stack.push((*c, p));
                }
            }
        }
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(r: &Radix, key: &str) -> Vec<u32> {
        let mut v = Vec::new();
        r.walk(key.as_bytes(), |ids| v.extend_from_slice(ids));
        v.sort_unstable();
        v
    }

    #[test]
    fn prefixes_are_found() {
        let mut r = Radix::new();
        r.insert(b"arn:aws:kinesis:us-east-1:1:stream/", 1);
        r.insert(b"arn:aws:kinesis:us-east-1:1:stream/orders", 2);
        r.insert(b"arn:aws:kinesis:", 3);
        r.insert(b"arn:aws:s3:::bucket/", 4);
        r.insert(b"", 5);
        r.insert(b"arn:aws:kinesis:us-east-2:", 6);
        assert_eq!(
            collect(&r, "arn:aws:kinesis:us-east-1:1:stream/orders-x"),
            vec![1, 2, 3, 5]
        );
        assert_eq!(
            collect(&r, "arn:aws:kinesis:us-east-2:1:stream/a"),
            vec![3, 5, 6]
        );
        assert_eq!(collect(&r, "arn:aws:s3:::bucket/k"), vec![4, 5]);
        assert_eq!(collect(&r, "arn:aws:s3:::bucke"), vec![5]);
        assert_eq!(collect(&r, ""), vec![5]);
        assert_eq!(r.dump().len(), 6);
    }
}
