package load

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// spoolPool keeps a row group's compressed pages in a temporary file
// instead of on the heap (pq.ColumnPageBuffers).
//
// A Parquet row group stores each column's pages together, so the writer
// holds every page of the row group until its last row: about 8 MB of
// compressed pages for a row group of charge lines, a third of the export's
// live heap, which the GC's headroom doubles (docs/performance.md).
// parquet-go's own file pool opens a file per column and row group (46 at
// once for charge lines); this one holds one file per writer, cut in
// chunks that the columns share, so a run needs one more file descriptor
// per partition being written, and the file is one row group long.
//
// Each buffer keeps its last, partly filled chunk in memory, so the many
// small writes of a page (header, levels, values) reach the file as one
// write per chunk. The file is removed as soon as it is open: nothing is
// left behind if the process dies.
type spoolPool struct {
	f       *os.File
	mu      sync.Mutex
	free    []int64 // offsets of unused chunks
	end     int64   // size of the file
	idle    []*spoolBuffer
	scratch []byte // WriteTo's, under mu
}

// spoolChunk is the unit of the file's space: a buffer writes once per
// chunk, and holds at most one in memory.
const spoolChunk = 32 << 10

// newSpoolPool makes the pool's file in dir.
func newSpoolPool(dir string) (*spoolPool, error) {
	f, err := os.CreateTemp(dir, "invoice-export-pages-*")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary file for Parquet pages: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("creating a temporary file for Parquet pages: %w", err)
	}
	return &spoolPool{f: f}, nil
}

// close removes the file; the pool's buffers must not be used after it.
func (p *spoolPool) close() error { return p.f.Close() }

func (p *spoolPool) GetBuffer() io.ReadWriteSeeker {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b, ok := pop(&p.idle); ok {
		return b
	}
	return &spoolBuffer{pool: p}
}

func (p *spoolPool) PutBuffer(rws io.ReadWriteSeeker) {
	b := rws.(*spoolBuffer)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, b.chunks...)
	b.chunks, b.tail, b.size, b.pos = b.chunks[:0], b.tail[:0], 0, 0
	p.idle = append(p.idle, b)
}

// chunk returns the offset of an unused chunk of the file.
func (p *spoolPool) chunk() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if off, ok := pop(&p.free); ok {
		return off
	}
	off := p.end
	p.end += spoolChunk
	return off
}

// pop takes the last of s, if any.
func pop[T any](s *[]T) (T, bool) {
	var v T
	n := len(*s)
	if n == 0 {
		return v, false
	}
	v, *s = (*s)[n-1], (*s)[:n-1]
	return v, true
}

// spoolBuffer is one column's pages: full chunks in the file, in order,
// then the tail in memory.
type spoolBuffer struct {
	pool   *spoolPool
	chunks []int64
	tail   []byte
	size   int64 // bytes written
	pos    int64 // where Read reads
}

var errSpoolSeek = errors.New("page buffer: seek out of range")

func (b *spoolBuffer) Write(p []byte) (int, error) {
	if b.pos != b.size {
		// parquet-go only appends, after a Seek to the end or to 0 on an
		// empty buffer.
		return 0, errors.New("page buffer: write before the end")
	}
	n := 0
	for len(p) > 0 {
		// The tail grows as it fills: most columns of a small file never
		// fill a chunk.
		k := min(len(p), spoolChunk-len(b.tail))
		b.tail = append(b.tail, p[:k]...)
		p, n = p[k:], n+k
		b.size += int64(k)
		b.pos = b.size
		if len(b.tail) == spoolChunk {
			off := b.pool.chunk()
			if _, err := b.pool.f.WriteAt(b.tail, off); err != nil {
				b.pool.unused(off)
				return n, fmt.Errorf("writing Parquet pages to a temporary file: %w", err)
			}
			b.chunks = append(b.chunks, off)
			b.tail = b.tail[:0]
		}
	}
	return n, nil
}

// unused gives back a chunk that was never filled.
func (p *spoolPool) unused(off int64) {
	p.mu.Lock()
	p.free = append(p.free, off)
	p.mu.Unlock()
}

func (b *spoolBuffer) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += b.pos
	case io.SeekEnd:
		offset += b.size
	}
	if offset < 0 || offset > b.size {
		return b.pos, errSpoolSeek
	}
	b.pos = offset
	return offset, nil
}

func (b *spoolBuffer) Read(p []byte) (int, error) {
	if b.pos >= b.size {
		return 0, io.EOF
	}
	full := int64(len(b.chunks)) * spoolChunk
	var n int
	if b.pos < full {
		i, at := b.pos/spoolChunk, b.pos%spoolChunk
		k := min(int64(len(p)), spoolChunk-at)
		var err error
		if n, err = b.pool.f.ReadAt(p[:k], b.chunks[i]+at); err != nil {
			return n, fmt.Errorf("reading Parquet pages from a temporary file: %w", err)
		}
	} else {
		n = copy(p, b.tail[b.pos-full:])
	}
	b.pos += int64(n)
	return n, nil
}

// WriteTo copies what is left to read to w, a chunk at a time: what
// io.Copy uses when the writer lays the row group out.
func (b *spoolBuffer) WriteTo(w io.Writer) (int64, error) {
	p := b.pool
	p.mu.Lock()
	if p.scratch == nil {
		p.scratch = make([]byte, spoolChunk)
	}
	buf := p.scratch
	defer p.mu.Unlock()
	var total int64
	for b.pos < b.size {
		n, err := b.Read(buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
