package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// photo is a w×h JPEG whose left half is red and right half blue, with
// EXIF orientation o when o > 0.
func photo(t testing.TB, w, h, o int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{200, 20, 20, 255}
			if x >= w/2 {
				c = color.RGBA{20, 20, 200, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if o == 0 {
		return b
	}
	// An APP1 segment with a little-endian TIFF header and one IFD entry.
	tiff := []byte("II*\x00\x08\x00\x00\x00")
	tiff = binary.LittleEndian.AppendUint16(tiff, 1)
	tiff = binary.LittleEndian.AppendUint16(tiff, 0x0112)
	tiff = binary.LittleEndian.AppendUint16(tiff, 3)
	tiff = binary.LittleEndian.AppendUint32(tiff, 1)
	tiff = binary.LittleEndian.AppendUint16(tiff, uint16(o))
	tiff = append(tiff, 0, 0, 0, 0, 0, 0)
	seg := append([]byte("Exif\x00\x00"), tiff...)
	app1 := []byte{0xFF, 0xE1}
	app1 = binary.BigEndian.AppendUint16(app1, uint16(len(seg)+2))
	app1 = append(app1, seg...)
	return append(append(append([]byte{}, b[:2]...), app1...), b[2:]...)
}

// A phone's photo, large and lying on its side as the sensor saw it,
// comes out at the email's double width, standing upright.
func TestPrepareScalesAndTurnsAPhonePhoto(t *testing.T) {
	m, pic, err := Prepare(photo(t, 4000, 3000, 6))
	if err != nil {
		t.Fatal(err)
	}
	if !pic.Scaled || pic.Width != Width || pic.Height != 1600 || pic.ContentType != "image/jpeg" || m.Name != pic.Name {
		t.Fatalf("prepared %+v", pic)
	}
	img, err := jpeg.Decode(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 1600 {
		t.Fatalf("stored picture is %v", b)
	}
	// Turned a quarter clockwise: the red (left) half is now on top.
	top, bottom := img.At(600, 100), img.At(600, 1500)
	if r, _, b, _ := top.RGBA(); r < b {
		t.Errorf("top is not red: %v", top)
	}
	if r, _, b, _ := bottom.RGBA(); r > b {
		t.Errorf("bottom is not blue: %v", bottom)
	}
}

// A picture that fits is stored byte for byte; the same picture twice
// has one name.
func TestPrepareKeepsAPictureThatFits(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 600, 300))
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	m, pic, err := Prepare(buf.Bytes())
	if err != nil || pic.Scaled || !bytes.Equal(m.Data, buf.Bytes()) || pic.Width != 600 || m.ContentType != "image/png" {
		t.Fatalf("%+v %v", pic, err)
	}
	m2, _, _ := Prepare(buf.Bytes())
	if m2.Name != m.Name {
		t.Errorf("one picture, two names: %s %s", m.Name, m2.Name)
	}
}

func TestPrepareRefuses(t *testing.T) {
	var tl *TooLarge
	if _, err := Read(bytes.NewReader(nil), MaxBytes+1); !errors.As(err, &tl) || tl.Size != MaxBytes+1 || tl.Limit != MaxBytes {
		t.Errorf("an announced size over the limit: %v", err)
	}
	if _, err := Read(bytes.NewReader(make([]byte, MaxBytes+10)), 100); !errors.As(err, &tl) {
		t.Errorf("a body longer than announced: %v", err)
	}
	if _, _, err := Prepare([]byte("%PDF-1.7 not a picture")); !errors.Is(err, ErrType) {
		t.Errorf("a PDF: %v", err)
	}
	// A PNG header claiming 10000×10000 pixels is refused before decoding.
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	binary.BigEndian.PutUint32(b[16:], 10000)
	binary.BigEndian.PutUint32(b[20:], 10000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	if _, _, err := Prepare(b); !errors.As(err, &tl) || tl.Pixels != 100_000_000 {
		t.Errorf("a 100-megapixel picture: %v", err)
	}
}

// A 12-megapixel phone photo (4032×3024), scaled to 1200 pixels wide:
// the time an editor waits after choosing it.
func BenchmarkPreparePhonePhoto(b *testing.B) {
	data := photo(b, 4032, 3024, 6)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := Prepare(data); err != nil {
			b.Fatal(err)
		}
	}
}
