//! Each contract's wire JSON, serialized once, in parallel: written to the store and sent back
//! in the answer without a second serialization.

use rayon::prelude::*;
use sync_core::Contract;

/// Contracts per chunk.
const CHUNK: usize = 1024;

/// The wire JSON objects of a set of contracts, in chunks of objects joined by commas.
#[derive(Debug, Default)]
pub struct ContractObjects {
    /// Each chunk's bytes and where each of its objects ends.
    chunks: Vec<(Vec<u8>, Vec<usize>)>,
}

impl ContractObjects {
    /// Serializes the contracts, on every core.
    pub fn new(contracts: &[Contract<'_>]) -> Self {
        let chunks = contracts
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut bytes = Vec::with_capacity(chunk.len() * 1024);
                let mut ends = Vec::with_capacity(chunk.len());
                for (i, contract) in chunk.iter().enumerate() {
                    if i > 0 {
                        bytes.push(b',');
                    }
                    contract.write_json(&mut bytes);
                    ends.push(bytes.len());
                }
                (bytes, ends)
            })
            .collect();
        ContractObjects { chunks }
    }

    /// Contract `i`'s object.
    pub fn get(&self, i: usize) -> &str {
        let (bytes, ends) = &self.chunks[i / CHUNK];
        let j = i % CHUNK;
        let start = if j == 0 { 0 } else { ends[j - 1] + 1 };
        // `write_json` writes UTF-8.
        std::str::from_utf8(&bytes[start..ends[j]]).unwrap_or_default()
    }

    /// Number of contracts.
    pub fn len(&self) -> usize {
        self.chunks.iter().map(|(_, ends)| ends.len()).sum()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The objects, in chunks of objects joined by commas: joined by commas in turn, and put
    /// between `[` and `]`, they are the JSON array of the contracts.
    pub fn chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.chunks.iter().map(|(bytes, _)| bytes.as_slice())
    }
}
