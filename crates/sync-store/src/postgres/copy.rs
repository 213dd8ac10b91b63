//! Rows for `COPY ... FROM STDIN (FORMAT binary)`, encoded here into chunks of about a MiB
//! and written to the connection a chunk at a time. The client's `BinaryCopyInWriter` hands
//! each row to the connection's runtime (a `block_on` a row): 0.8 s of a 100,000-contract
//! write, against a few milliseconds for this encoding.

use std::io::Write;

use postgres::CopyInWriter;

use crate::{Result, StoreError};

/// The size of a chunk sent to the server.
const CHUNK: usize = 1 << 20;

/// The rows of one binary `COPY`, written to `writer` as they fill chunks.
pub(super) struct BinaryRows<'w, 'a> {
    writer: &'w mut CopyInWriter<'a>,
    buf: Vec<u8>,
}

fn io_error(err: std::io::Error) -> StoreError {
    // The client's writer fails only when the connection does.
    StoreError::Unavailable {
        source: Box::new(err),
    }
}

impl<'w, 'a> BinaryRows<'w, 'a> {
    /// Starts the copy: the format's header.
    pub(super) fn new(writer: &'w mut CopyInWriter<'a>) -> Self {
        let mut buf = Vec::with_capacity(CHUNK + (64 << 10));
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0i32.to_be_bytes()); // flags
        buf.extend_from_slice(&0i32.to_be_bytes()); // header extension length
        BinaryRows { writer, buf }
    }

    /// Starts a row of `fields` fields, sending the chunk before it if it is full.
    pub(super) fn row(&mut self, fields: i16) -> Result<()> {
        if self.buf.len() >= CHUNK {
            self.writer.write_all(&self.buf).map_err(io_error)?;
            self.buf.clear();
        }
        self.buf.extend_from_slice(&fields.to_be_bytes());
        Ok(())
    }

    fn bytes(&mut self, value: &[u8]) -> Result<()> {
        let len = i32::try_from(value.len()).map_err(|_| StoreError::Database {
            source: format!("a value of {} bytes is too large for a row", value.len()).into(),
        })?;
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(value);
        Ok(())
    }

    /// A `TEXT` field.
    pub(super) fn text(&mut self, value: &str) -> Result<()> {
        self.bytes(value.as_bytes())
    }

    /// A `BIGINT` field.
    pub(super) fn int8(&mut self, value: i64) {
        self.buf.extend_from_slice(&8i32.to_be_bytes());
        self.buf.extend_from_slice(&value.to_be_bytes());
    }

    /// A `BOOLEAN` field.
    pub(super) fn boolean(&mut self, value: bool) {
        self.buf.extend_from_slice(&1i32.to_be_bytes());
        self.buf.push(u8::from(value));
    }

    /// Sends the rest and the format's trailer (the caller then finishes the copy).
    pub(super) fn end(mut self) -> Result<()> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.writer.write_all(&self.buf).map_err(io_error)
    }
}
