package load

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
)

// TestSpoolBuffers: what each buffer reads back, through Read and through
// WriteTo (io.Copy), is what was written to it, however the writes are cut
// and whether other buffers write at the same time; the file is reused
// from one row group to the next, and nothing is left in its folder.
func TestSpoolBuffers(t *testing.T) {
	dir := t.TempDir()
	p, err := newSpoolPool(dir)
	if err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("the pool left %d files in its folder while open", len(left))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var sizeAfterFirst int64
	for group := range 3 {
		const columns = 8
		bufs := make([]io.ReadWriteSeeker, columns)
		want := make([][]byte, columns)
		var wg sync.WaitGroup
		for c := range columns {
			bufs[c] = p.GetBuffer()
			if _, err := bufs[c].Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			// Column c writes about c chunks, in pieces of 1 byte to 3 chunks.
			total := c*spoolChunk + rng.IntN(spoolChunk)
			data := make([]byte, total)
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			want[c] = data
			cuts := []int{0}
			for at := 0; at < total; {
				at = min(total, at+1+rng.IntN(3*spoolChunk))
				cuts = append(cuts, at)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 1; i < len(cuts); i++ {
					if n, err := bufs[c].Write(data[cuts[i-1]:cuts[i]]); err != nil || n != cuts[i]-cuts[i-1] {
						t.Errorf("write: %d, %v", n, err)
					}
				}
			}()
		}
		wg.Wait()
		for c := range columns {
			if _, err := bufs[c].Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if c%2 == 0 {
				_, err = io.Copy(&got, bufs[c]) // WriteTo
			} else {
				_, err = io.Copy(&got, struct{ io.Reader }{bufs[c]}) // Read
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want[c]) {
				t.Fatalf("row group %d, column %d: read back %d bytes, differing from the %d written at byte %d",
					group, c, got.Len(), len(want[c]), firstDiff(got.Bytes(), want[c]))
			}
			if off, err := bufs[c].Seek(-1, io.SeekStart); err == nil {
				t.Fatalf("seek to -1 went to %d", off)
			}
		}
		for _, b := range bufs {
			p.PutBuffer(b)
		}
		if group == 0 {
			sizeAfterFirst = p.end
		} else if p.end > sizeAfterFirst+columns*spoolChunk {
			t.Fatalf("row group %d grew the file to %d bytes; the first took %d", group, p.end, sizeAfterFirst)
		}
	}
	if err := p.close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("the pool left %d files in its folder", len(left))
	}
}

// TestSpoolWithoutFolder: where no temporary file can be made, the writer
// keeps its pages on the heap and writes the same file.
func TestSpoolWithoutFolder(t *testing.T) {
	if _, err := newSpoolPool("/nonexistent/folder"); err == nil {
		t.Fatal("a pool was made in a folder that does not exist")
	}
	lines := variedLines(5000)
	want := writeFile(t, false, toChargeRow, lines)
	// The Store's writer spools: so TestParallelEncoderBytes compares
	// spooled pages with the heap's.
	w := newPipelinedRowWriter(io.Discard, toChargeRow)
	spooled := w.spool != nil
	w.abort()
	if !spooled {
		t.Fatal("the pipelined writer keeps its pages on the heap")
	}
	t.Setenv("TMPDIR", "/nonexistent/folder")
	w = newPipelinedRowWriter(io.Discard, toChargeRow)
	spooled = w.spool != nil
	w.abort()
	if spooled {
		t.Fatal("the pipelined writer spools without a temporary folder")
	}
	if got := writeFile(t, true, toChargeRow, lines); !bytes.Equal(got, want) {
		t.Fatalf("without a temporary folder the file differs at byte %d", firstDiff(got, want))
	}
}

// TestSpoolWriteError: a page that cannot be spooled (the temporary
// folder full, say) is the writer's error, named, not a short file.
func TestSpoolWriteError(t *testing.T) {
	p, err := newSpoolPool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := p.GetBuffer()
	p.close() // every write to the file now fails
	_, err = b.Write(make([]byte, spoolChunk+1))
	if err == nil || !strings.Contains(err.Error(), "writing Parquet pages to a temporary file") {
		t.Fatalf("write to a closed spool: %v", err)
	}
	if len(p.free) != 1 {
		t.Fatalf("the chunk that failed was not given back: %d free", len(p.free))
	}
}
