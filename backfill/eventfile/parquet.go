package eventfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// parquetBatch is how many rows are decoded at once. The column readers fill a batch
// column by column and the rows are then read across: a batch that stays in cache
// measured faster than 1024 rows (BenchmarkParquet), and makes parquet-go allocate
// less. parquetBatchValues caps it for wide files.
const (
	parquetBatch       = 128
	parquetBatchValues = 1 << 14
)

// NewParquet reads a Parquet file of size bytes. Nested groups (a location group with
// country, city, postal_code) and flat columns named with dots (location.country) both
// become nested JSON objects. Strings and byte arrays become JSON strings; integers,
// floats and decimals numbers; timestamps and dates RFC 3339 strings in UTC (a
// timestamp not marked as UTC is taken to be UTC); INT96 (legacy Spark) timestamps
// too; null values are left out, and repeated (list) columns, not part of the contract,
// are skipped. A file that is not Parquet, or whose footer is corrupt, gives an error
// wrapping ErrUnreadable.
func NewParquet(r io.ReaderAt, size int64) (rd Reader, err error) {
	if err := checkParquetFooter(r, size); err != nil {
		return nil, err
	}
	// parquet-go trusts the file's metadata in places, and panics on some corrupt ones.
	defer func() {
		if p := recover(); p != nil {
			rd, err = nil, unreadable("corrupt parquet file: %v", p)
		}
	}()
	f, err := parquet.OpenFile(r, size,
		parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true),
		// Synchronous, so that a panic stays on this goroutine, where it is recovered.
		parquet.FileReadMode(parquet.ReadModeSync))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}

	var leaves []*parquet.Column
	var walk func(c *parquet.Column)
	walk = func(c *parquet.Column) {
		if c.Leaf() {
			leaves = append(leaves, c)
			return
		}
		for _, child := range c.Columns() {
			walk(child)
		}
	}
	walk(f.Root())
	if len(leaves) == 0 {
		// Rows of no columns would never end.
		return nil, unreadable("parquet file has no columns")
	}

	p := &parquetReader{groups: f.RowGroups(), meta: f.Metadata(), r: r, size: size}
	cols := make([]planColumn, 0, len(leaves))
	for _, c := range leaves {
		i := c.Index()
		if i < 0 || i != len(cols) {
			return nil, unreadable("corrupt parquet schema: leaf column %q has index %d", strings.Join(c.Path(), "."), i)
		}
		pc := planColumn{name: strings.Join(c.Path(), ".")}
		conv := parquetConvOf(c.Type())
		if c.MaxRepetitionLevel() == 0 && len(c.Path()) > 0 {
			for _, name := range c.Path() {
				pc.path = append(pc.path, strings.Split(name, ".")...)
			}
		} else {
			conv = parquetColumn{conv: convSkip}
		}
		cols = append(cols, pc)
		p.cols = append(p.cols, conv)
	}
	if p.plan, err = newObjectPlan(cols); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	p.cur = make([]parquet.Value, len(p.cols))
	// Each row gets room for a value per column up front: grown by append instead, the
	// batch of a new file costs several allocations a row.
	n := len(p.cols)
	p.batch = make([]parquet.Row, max(16, min(parquetBatch, parquetBatchValues/n)))
	values := make([]parquet.Value, len(p.batch)*n)
	for i := range p.batch {
		p.batch[i] = values[i*n : i*n : (i+1)*n]
	}
	return p, nil
}

// Limits on what a file's metadata may claim, checked before parquet-go allocates
// what it claims: a corrupt length would otherwise cost gigabytes, or the process.
const (
	maxParquetPage       = 64 << 20 // bytes of a page, compressed or not
	maxParquetPageValues = 1 << 24  // values of a page, nulls included
)

// checkParquetFooter checks the magic numbers and the footer before parquet-go reads
// them: parquet-go allocates the footer length the file claims, and every list in the
// footer at the length its header claims.
func checkParquetFooter(r io.ReaderAt, size int64) error {
	const magic = "PAR1"
	if size < 12 {
		return unreadable("not a parquet file: %d bytes", size)
	}
	var head [4]byte
	var tail [8]byte
	if err := readFullAt(r, head[:], 0); err != nil {
		return fmt.Errorf("%w: reading parquet header: %w", ErrUnreadable, err)
	}
	if err := readFullAt(r, tail[:], size-8); err != nil {
		return fmt.Errorf("%w: reading parquet footer: %w", ErrUnreadable, err)
	}
	if string(head[:]) != magic || string(tail[4:]) != magic {
		if string(tail[4:]) == "PARE" {
			return unreadable("encrypted parquet files are not supported")
		}
		return unreadable("not a parquet file: no PAR1 magic number")
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n > size-12 {
		return unreadable("corrupt parquet file: a %d-byte footer in a %d-byte file", n, size)
	}
	footer := make([]byte, n)
	if err := readFullAt(r, footer, size-8-n); err != nil {
		return fmt.Errorf("%w: reading parquet footer: %w", ErrUnreadable, err)
	}
	if err := checkThrift(footer); err != nil {
		return unreadable("corrupt parquet footer: %v", err)
	}
	return nil
}

// readFullAt reads len(b) bytes at off.
func readFullAt(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil // io.ReaderAt may say io.EOF with the last bytes
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// checkThrift walks the thrift compact-protocol struct at the start of b, checking that
// each list, set, map and binary fits in what is left of b: every element takes at
// least a byte, so no list can then claim more elements than the file has bytes.
func checkThrift(b []byte) error {
	w := thriftWalker{b: b}
	return w.value(thriftStruct, false, 0)
}

// Compact-protocol types.
const (
	thriftTrue   = 1
	thriftFalse  = 2
	thriftByte   = 3
	thriftI16    = 4
	thriftI32    = 5
	thriftI64    = 6
	thriftDouble = 7
	thriftBinary = 8
	thriftList   = 9
	thriftSet    = 10
	thriftMap    = 11
	thriftStruct = 12
	thriftUUID   = 13
)

type thriftWalker struct {
	b []byte
	i int
}

func (w *thriftWalker) skip(n uint64) error {
	if n > uint64(len(w.b)-w.i) {
		return io.ErrUnexpectedEOF
	}
	w.i += int(n)
	return nil
}

func (w *thriftWalker) uvarint() (uint64, error) {
	v, n := binary.Uvarint(w.b[w.i:])
	if n <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	w.i += n
	return v, nil
}

func (w *thriftWalker) byte() (byte, error) {
	if w.i == len(w.b) {
		return 0, io.ErrUnexpectedEOF
	}
	w.i++
	return w.b[w.i-1], nil
}

// value skips a value of type t; inList says whether it is a list's element, where
// booleans take a byte.
func (w *thriftWalker) value(t byte, inList bool, depth int) error {
	if depth > 64 {
		return errors.New("thrift structs nested too deep")
	}
	switch t {
	case thriftTrue, thriftFalse:
		if inList {
			return w.skip(1)
		}
		return nil
	case thriftByte:
		return w.skip(1)
	case thriftI16, thriftI32, thriftI64:
		_, err := w.uvarint()
		return err
	case thriftDouble:
		return w.skip(8)
	case thriftUUID:
		return w.skip(16)
	case thriftBinary:
		n, err := w.uvarint()
		if err != nil {
			return err
		}
		return w.skip(n)
	case thriftList, thriftSet:
		h, err := w.byte()
		if err != nil {
			return err
		}
		n := uint64(h >> 4)
		if n == 0xF {
			if n, err = w.uvarint(); err != nil {
				return err
			}
		}
		if n > uint64(len(w.b)-w.i) {
			return fmt.Errorf("a list of %d elements in %d bytes", n, len(w.b)-w.i)
		}
		for range n {
			if err := w.value(h&0xF, true, depth+1); err != nil {
				return err
			}
		}
		return nil
	case thriftMap:
		n, err := w.uvarint()
		if err != nil || n == 0 {
			return err
		}
		if n > uint64(len(w.b)-w.i) {
			return fmt.Errorf("a map of %d entries in %d bytes", n, len(w.b)-w.i)
		}
		kv, err := w.byte()
		if err != nil {
			return err
		}
		for range n {
			if err := w.value(kv>>4, true, depth+1); err != nil {
				return err
			}
			if err := w.value(kv&0xF, true, depth+1); err != nil {
				return err
			}
		}
		return nil
	case thriftStruct:
		for {
			h, err := w.byte()
			if err != nil {
				return err
			}
			if h == 0 {
				return nil
			}
			if h>>4 == 0 { // a field id of its own, not a delta
				if _, err := w.uvarint(); err != nil {
					return err
				}
			}
			if err := w.value(h&0xF, false, depth+1); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unknown thrift type %d", t)
	}
}

// checkRowGroup reads the page headers of row group g before parquet-go does, checking
// what they claim: parquet-go allocates a page's claimed size before reading it.
func (p *parquetReader) checkRowGroup(g int) error {
	if g >= len(p.meta.RowGroups) {
		return nil
	}
	for c := range p.meta.RowGroups[g].Columns {
		md := &p.meta.RowGroups[g].Columns[c].MetaData
		if err := p.checkPages(md); err != nil {
			return fmt.Errorf("%w: row group %d, column %q: %w", ErrUnreadable, g+1, strings.Join(md.PathInSchema, "."), err)
		}
	}
	return nil
}

// checkPages checks the pages of a column chunk, read as parquet-go reads them: one
// after the other from the dictionary page (or the first data page) to the chunk's end.
func (p *parquetReader) checkPages(md *format.ColumnMetaData) error {
	start := md.DataPageOffset
	if md.DictionaryPageOffset != 0 {
		start = md.DictionaryPageOffset
	}
	end := start + md.TotalCompressedSize
	if start < 0 || md.TotalCompressedSize < 0 || end < start || end > p.size {
		return fmt.Errorf("a column chunk at %d..%d of a %d-byte file", start, end, p.size)
	}
	var proto thrift.CompactProtocol
	for off := start; off < end; {
		// Most headers take a few dozen bytes; statistics of long values take more.
		var h format.PageHeader
		var hlen int64
		for window := min(end-off, 4096); ; window = min(end-off, window*8) {
			p.scan = slices.Grow(p.scan[:0], int(window))[:window]
			if err := readFullAt(p.r, p.scan, off); err != nil {
				return err
			}
			rd := proto.NewReaderFromBytes(p.scan)
			h = format.PageHeader{}
			err := thrift.NewDecoder(rd).Decode(&h)
			if err == nil {
				hlen = int64(rd.BytesRead())
				break
			}
			if window == end-off || window >= maxParquetPage {
				return fmt.Errorf("page header at %d: %w", off, err)
			}
		}
		data := off + hlen
		switch {
		case h.CompressedPageSize < 0 || int64(h.CompressedPageSize) > end-data:
			return fmt.Errorf("page at %d: %d bytes in what is left of its chunk, %d", off, h.CompressedPageSize, end-data)
		case h.CompressedPageSize > maxParquetPage || h.UncompressedPageSize < 0 || h.UncompressedPageSize > maxParquetPage:
			return fmt.Errorf("page at %d: %d bytes, %d uncompressed; the limit is %d", off, h.CompressedPageSize, h.UncompressedPageSize, maxParquetPage)
		}
		var values int32
		compressed := data // where the compressed bytes start
		switch {
		case h.DataPageHeader.Valid:
			values = h.DataPageHeader.V.NumValues
		case h.DataPageHeaderV2.Valid:
			v2 := &h.DataPageHeaderV2.V
			values = v2.NumValues
			if v2.IsCompressed.Valid && !v2.IsCompressed.V {
				compressed = -1
			} else {
				// Levels come first, uncompressed.
				compressed += int64(v2.RepetitionLevelsByteLength) + int64(v2.DefinitionLevelsByteLength)
			}
		case h.DictionaryPageHeader.Valid:
			values = h.DictionaryPageHeader.V.NumValues
		}
		if values < 0 || values > maxParquetPageValues {
			return fmt.Errorf("page at %d: %d values; the limit is %d", off, values, maxParquetPageValues)
		}
		next := data + int64(h.CompressedPageSize)
		if compressed >= data && compressed < next {
			if err := p.checkDecodedSize(md.Codec, compressed, next); err != nil {
				return fmt.Errorf("page at %d: %w", off, err)
			}
		}
		off = next
	}
	return nil
}

// checkDecodedSize checks the size that a snappy block or a zstd frame at off..end
// says it decodes to: their decoders allocate it up front, up to 4 GiB and 64 GiB.
// gzip, brotli and lz4 grow their output as they decode, as large as the data makes
// it.
func (p *parquetReader) checkDecodedSize(codec format.CompressionCodec, off, end int64) error {
	if codec != format.Snappy && codec != format.Zstd {
		return nil
	}
	var b [18]byte // a zstd frame header is at most 18 bytes
	n := min(int64(len(b)), end-off)
	if err := readFullAt(p.r, b[:n], off); err != nil {
		return err
	}
	var size uint64
	if codec == format.Snappy {
		v, k := binary.Uvarint(b[:n])
		if k <= 0 {
			return nil // the decoder will say what is wrong
		}
		size = v
	} else {
		size = zstdContentSize(b[:n])
	}
	if size > maxParquetPage {
		return fmt.Errorf("%s data claiming %d bytes; the limit is %d", codec, size, maxParquetPage)
	}
	return nil
}

// zstdContentSize returns the content size a zstd frame header declares, or 0.
func zstdContentSize(b []byte) uint64 {
	if len(b) < 5 || binary.LittleEndian.Uint32(b) != 0xFD2FB528 {
		return 0
	}
	fhd := b[4]
	single := fhd>>5&1 == 1
	i := 5
	if !single {
		i++ // window descriptor
	}
	i += [4]int{0, 1, 2, 4}[fhd&3] // dictionary id
	size := [4]int{0, 2, 4, 8}[fhd>>6]
	if size == 0 && single {
		size = 1
	}
	if size == 0 || i+size > len(b) {
		return 0
	}
	var v uint64
	for k := size - 1; k >= 0; k-- {
		v = v<<8 | uint64(b[i+k])
	}
	if size == 2 {
		v += 256
	}
	return v
}

// valueConv is how a column's values become JSON.
type valueConv uint8

const (
	convSkip valueConv = iota
	convPhysical
	convUint
	convTimestamp
	convDate
	convTime
	convDecimal
	convUUID
	convFloat16
)

// parquetColumn is how to write one leaf column's values, computed from its type once.
type parquetColumn struct {
	conv valueConv
	kind parquet.Kind  // the physical type conv expects; other values are written as their own
	unit time.Duration // convTimestamp, convTime
	// scale is convDecimal's number of digits after the point.
	scale int32
}

func parquetConvOf(t parquet.Type) parquetColumn {
	kind := t.Kind()
	col := parquetColumn{conv: convPhysical, kind: kind}
	lt := t.LogicalType()
	if lt == nil {
		return col
	}
	switch v := lt.Value.(type) {
	case *format.TimestampType:
		// Naive (not UTC-adjusted) timestamps are read as UTC: that is what writers
		// without zone support mean, and the contract needs an offset.
		if kind == parquet.Int64 && v.Unit.Value != nil {
			col.conv, col.unit = convTimestamp, v.Unit.Value.Duration()
		}
	case *format.DateType:
		if kind == parquet.Int32 {
			col.conv = convDate
		}
	case *format.TimeType:
		if (kind == parquet.Int32 || kind == parquet.Int64) && v.Unit.Value != nil {
			col.conv, col.unit = convTime, v.Unit.Value.Duration()
		}
	case *format.DecimalType:
		col.conv, col.scale = convDecimal, v.Scale
	case *format.IntType:
		if !v.IsSigned {
			col.conv = convUint
		}
	case *format.UUIDType:
		if kind == parquet.FixedLenByteArray {
			col.conv = convUUID
		}
	case *format.Float16Type:
		if kind == parquet.FixedLenByteArray {
			col.conv = convFloat16
		}
	}
	return col
}

type parquetReader struct {
	r      io.ReaderAt
	size   int64
	meta   *format.FileMetaData
	scan   []byte // page headers being checked
	groups []parquet.RowGroup
	group  int          // the next row group to open
	rows   parquet.Rows // the current row group's, nil between groups
	batch  []parquet.Row
	n, i   int   // rows in batch, and the next one to hand out
	last   bool  // rows said io.EOF: the batch is the group's last
	stalls int   // reads in a row that returned nothing
	broken error // why the rows after the batch cannot be read
	pos    int64
	plan   *objectPlan
	cols   []parquetColumn // by leaf column index
	cur    []parquet.Value // the row's value of each column; null when it has none
	buf    []byte
	marks  []int
	err    error // sticky: io.EOF or why the rest cannot be read
}

// Next returns the next row.
func (p *parquetReader) Next() (rec Record, err error) {
	if p.err != nil {
		return Record{}, p.err
	}
	defer func() {
		if r := recover(); r != nil {
			p.abandon()
			p.err = unreadable("corrupt parquet file after row %d: %v", p.pos, r)
			rec, err = Record{}, p.err
		}
	}()
	for p.i == p.n {
		if err := p.fill(); err != nil {
			p.close()
			p.err = err
			return Record{}, err
		}
	}
	row := p.batch[p.i]
	p.i++
	p.pos++
	p.buf = p.appendRow(p.buf[:0], row)
	return Record{Pos: p.pos, JSON: p.buf}, nil
}

// fill reads the next batch of rows, moving to the next row group when one ends.
func (p *parquetReader) fill() error {
	if p.broken != nil {
		return p.broken
	}
	if p.rows == nil || p.last {
		p.close()
		if p.group == len(p.groups) {
			return io.EOF
		}
		if err := p.checkRowGroup(p.group); err != nil {
			return err
		}
		p.rows = p.groups[p.group].Rows()
		p.group++
		p.last = false
	}
	n, err := p.rows.ReadRows(p.batch)
	p.n, p.i = n, 0
	switch {
	case err == io.EOF:
		p.last = true
	case err != nil:
		// The rows read before the error are good: they go first.
		p.broken = fmt.Errorf("%w: row group %d, after row %d: %w", ErrUnreadable, p.group, p.pos+int64(n), err)
	case n == 0:
		// A corrupt column can read as empty without ending.
		if p.stalls++; p.stalls > 10 {
			return unreadable("row group %d, after row %d: the rows do not end", p.group, p.pos)
		}
		return nil
	}
	p.stalls = 0
	return nil
}

func (p *parquetReader) close() {
	if p.rows != nil {
		_ = p.rows.Close() // file row groups have nothing to flush
		p.rows = nil
	}
}

// abandon drops the row group after parquet-go panicked reading it. Closing it may
// panic too, and would then panic again from its finalizer, where nothing recovers:
// the finalizer goes.
func (p *parquetReader) abandon() {
	rows := p.rows
	p.rows = nil
	if rows == nil {
		return
	}
	defer func() {
		if recover() != nil && reflect.ValueOf(rows).Kind() == reflect.Pointer {
			runtime.SetFinalizer(rows, nil)
		}
	}()
	_ = rows.Close()
}

// appendRow appends row as a contract JSON object, following the plan.
func (p *parquetReader) appendRow(b []byte, row parquet.Row) []byte {
	// Every column has at least one value in a row, null or not, and the values come
	// in column order: a row of one value per column is indexed by column as it is.
	vals := []parquet.Value(row)
	if len(row) != len(p.cols) {
		clear(p.cur)
		for _, v := range row {
			// A repeated column's several values, or a column index past the schema
			// in a corrupt file, are no contract field.
			if c := v.Column(); c >= 0 && c < len(p.cur) && p.cols[c].conv != convSkip {
				p.cur[c] = v
			}
		}
		vals = p.cur
	}
	b = append(b, '{')
	marks := p.marks[:0]
	for i := range p.plan.steps {
		s := &p.plan.steps[i]
		switch s.op {
		case stepLeaf:
			if v := vals[s.col]; !v.IsNull() && v.Column() == s.col {
				b = appendParquetValue(appendKey(b, s.key), &p.cols[s.col], v)
			}
		case stepOpen:
			var m int
			b, m = objectOpen(b, s.key)
			marks = append(marks, m)
		case stepClose:
			b = objectClose(b, marks[len(marks)-1])
			marks = marks[:len(marks)-1]
		}
	}
	p.marks = marks
	return append(b, '}')
}

// Fields returns the top-level names of the file's columns.
func (p *parquetReader) Fields() []string { return p.plan.top }

// appendParquetValue appends v, a value of column c, as JSON.
func appendParquetValue(b []byte, c *parquetColumn, v parquet.Value) []byte {
	kind := v.Kind()
	if kind != c.kind {
		// The page disagrees with the schema (a corrupt file): write what it holds.
		return appendPhysical(b, v)
	}
	switch c.conv {
	case convUint:
		if kind == parquet.Int32 {
			return strconv.AppendUint(b, uint64(v.Uint32()), 10)
		}
		if kind == parquet.Int64 {
			return strconv.AppendUint(b, v.Uint64(), 10)
		}
	case convTimestamp:
		return appendTime(b, unixTime(v.Int64(), c.unit), time.RFC3339Nano)
	case convDate:
		// A date is written as its midnight, UTC, so that it reads as an instant.
		return appendTime(b, time.Unix(int64(v.Int32())*86400, 0), time.RFC3339)
	case convTime:
		n := v.Int64()
		if kind == parquet.Int32 {
			n = int64(v.Int32())
		}
		return appendTime(b, unixTime(n, c.unit), "15:04:05.999999999")
	case convDecimal:
		return appendDecimal(b, v, c.scale)
	case convUUID:
		if u := v.ByteArray(); len(u) == 16 {
			const hex = "0123456789abcdef"
			b = append(b, '"')
			for i, x := range u {
				if i == 4 || i == 6 || i == 8 || i == 10 {
					b = append(b, '-')
				}
				b = append(b, hex[x>>4], hex[x&0xF])
			}
			return append(b, '"')
		}
	case convFloat16:
		if h := v.ByteArray(); len(h) == 2 {
			return appendFloat(b, float64(float16(binary.LittleEndian.Uint16(h))), 32)
		}
	}
	return appendPhysical(b, v)
}

// appendPhysical appends v as its physical type says.
func appendPhysical(b []byte, v parquet.Value) []byte {
	switch v.Kind() {
	case parquet.Boolean:
		return strconv.AppendBool(b, v.Boolean())
	case parquet.Int32:
		return strconv.AppendInt(b, int64(v.Int32()), 10)
	case parquet.Int64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case parquet.Int96:
		// INT96 is only ever a timestamp: nanoseconds of the day, then the Julian day.
		if x := v.ByteArray(); len(x) == 12 {
			const unixEpochJulianDay = 2440588
			day := int64(binary.LittleEndian.Uint32(x[8:])) - unixEpochJulianDay
			ns := int64(binary.LittleEndian.Uint64(x[:8]))
			return appendTime(b, time.Unix(day*86400, 0).Add(time.Duration(ns)), time.RFC3339Nano)
		}
		return appendJSONString(b, v.ByteArray())
	case parquet.Float:
		return appendFloat(b, float64(v.Float()), 32)
	case parquet.Double:
		return appendFloat(b, v.Double(), 64)
	default:
		return appendJSONString(b, v.ByteArray())
	}
}

func unixTime(n int64, unit time.Duration) time.Time {
	switch unit {
	case time.Millisecond:
		return time.UnixMilli(n)
	case time.Microsecond:
		return time.UnixMicro(n)
	default:
		return time.Unix(0, n)
	}
}

// appendTime appends t in UTC as a JSON string. Years past 9999 or before 0, possible
// in a corrupt file, format with extra digits or a sign, still plain ASCII.
func appendTime(b []byte, t time.Time, layout string) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, layout)
	return append(b, '"')
}

// appendFloat appends f as encoding/json does, with NaN and infinities, which JSON
// cannot hold, as strings.
func appendFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		b = append(b, '"')
		b = strconv.AppendFloat(b, f, 'g', -1, bits)
		return append(b, '"')
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// Like encoding/json: 1e-07 becomes 1e-7.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendDecimal appends a DECIMAL's unscaled integer, from an INT32, an INT64 or a
// big-endian two's complement byte array, as number text with scale digits after the
// point.
func appendDecimal(b []byte, v parquet.Value, scale int32) []byte {
	start := len(b)
	switch v.Kind() {
	case parquet.Int32:
		b = strconv.AppendInt(b, int64(v.Int32()), 10)
	case parquet.Int64:
		b = strconv.AppendInt(b, v.Int64(), 10)
	default:
		x := v.ByteArray()
		if len(x) == 0 {
			return append(b, '0')
		}
		if len(x) <= 8 {
			n := int64(int8(x[0])) // sign-extends
			for _, c := range x[1:] {
				n = n<<8 | int64(c)
			}
			b = strconv.AppendInt(b, n, 10)
			break
		}
		n := new(big.Int).SetBytes(x)
		if x[0]&0x80 != 0 {
			n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(x))*8))
		}
		b = n.Append(b, 10)
	}
	if scale <= 0 {
		if scale < 0 && string(b[start:]) != "0" {
			b = append(b, 'e')
			b = strconv.AppendInt(b, -int64(scale), 10)
		}
		return b
	}
	neg := b[start] == '-'
	if neg {
		start++
	}
	digits := len(b) - start
	if int64(digits) <= int64(scale) {
		pad := int(int64(scale)-int64(digits)) + 2
		if pad > 40 {
			// Far smaller than any amount: an exponent says it in fewer digits.
			b = append(b, 'e', '-')
			return strconv.AppendInt(b, int64(scale), 10)
		}
		// 0.00ddd: move the digits right to make room for the leading zeros.
		b = append(b, make([]byte, pad)...)
		copy(b[start+pad:], b[start:start+digits])
		b[start], b[start+1] = '0', '.'
		for i := start + 2; i < start+pad; i++ {
			b[i] = '0'
		}
		return b
	}
	point := len(b) - int(scale)
	b = append(b, 0)
	copy(b[point+1:], b[point:])
	b[point] = '.'
	return b
}

// float16 converts an IEEE 754 half-precision number.
func float16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1F
	frac := uint32(h) & 0x3FF
	switch {
	case exp == 0x1F: // infinity or NaN
		return math.Float32frombits(sign | 0xFF<<23 | frac<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	case frac == 0:
		return math.Float32frombits(sign)
	}
	// subnormal: a multiple of 2^-24
	f := float32(frac) / (1 << 24)
	if sign != 0 {
		f = -f
	}
	return f
}
