package audioformat

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// wav is a WAV header with the given format tag.
func wav(tag uint16) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00")
	b = binary.LittleEndian.AppendUint16(b, tag)
	b = append(b, 1, 0, 0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0)
	return append(b, "data\x00\x00\x00\x00"...)
}

func TestSniffAudio(t *testing.T) {
	for _, tc := range []struct {
		name       string
		head       []byte
		declared   string
		ct, format string
	}{
		{"PCM WAV", wav(1), "application/octet-stream", "audio/wav", "WAV (PCM)"},
		{"µ-law WAV", wav(7), "", "audio/wav", "WAV (G.711 µ-law)"},
		{"A-law WAV", wav(6), "audio/x-wav", "audio/wav", "WAV (G.711 A-law)"},
		{"GSM WAV", wav(0x31), "", "audio/wav", "WAV (GSM 6.10)"},
		{"MP3 with ID3", []byte("ID3\x04\x00\x00\x00\x00\x00\x00"), "audio/wav", "audio/mpeg", "MP3 (ID3)"},
		{"MP3 frame", []byte{0xFF, 0xFB, 0x90, 0x64, 0x00}, "", "audio/mpeg", "MPEG audio"},
		{"AAC", []byte{0xFF, 0xF1, 0x50, 0x80}, "", "audio/aac", "AAC (ADTS)"},
		{"Ogg", []byte("OggS\x00\x02"), "", "audio/ogg", "Ogg"},
		{"raw µ-law declared", []byte{0xff, 0x7f, 0xfe, 0x7e, 0x00, 0x91}, "audio/basic", "audio/basic", "headerless audio declared as audio/basic"},
	} {
		f, err := Sniff(tc.head, tc.declared)
		if err != nil || f.ContentType != tc.ct || f.Name != tc.format {
			t.Errorf("%s: %+v, %v; want %s %s", tc.name, f, err, tc.ct, tc.format)
		}
	}
}

func TestSniffRefusesDocuments(t *testing.T) {
	for _, tc := range []struct {
		name, body, declared, want string
	}{
		{"JSON as text/plain", `{"error":"session expired"}`, "text/plain", "JSON"},
		{"log-in page as octet-stream", "<!DOCTYPE html><html><head><title>Login</title>", "application/octet-stream", "an HTML page"},
		{"502 page without a type", "<html>\r\n<head><title>502 Bad Gateway</title></head>", "", "an HTML page"},
		{"HTML with a BOM", "\ufeff<!doctype html><html>", "audio/wav", "an HTML page"},
		{"S3 error", `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code>`, "application/xml", "an XML document"},
		{"bare S3 error", `<Error><Code>AccessDenied</Code>`, "audio/wav", "an XML document"},
		{"plain text", "File not found on this server.", "audio/wav", "text"},
		{"binary declared as a document", "\x00\x01\x02\x03\x04\x05", "application/octet-stream", "match no audio format"},
	} {
		_, err := Sniff([]byte(tc.body), tc.declared)
		if !errors.Is(err, ErrNotAudio) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want ErrNotAudio saying %q", tc.name, err, tc.want)
		}
	}
}

func FuzzSniff(f *testing.F) {
	f.Add(wav(1), "")
	f.Add([]byte("<html>"), "audio/wav")
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEfmt \xff\xff\xff\xff"), "")
	f.Fuzz(func(t *testing.T, head []byte, declared string) {
		f, err := Sniff(head, declared)
		if err == nil && !strings.HasPrefix(f.ContentType, "audio/") {
			t.Fatalf("accepted %q as %q", head, f.ContentType)
		}
		if err != nil && !errors.Is(err, ErrNotAudio) {
			t.Fatalf("error %v does not wrap ErrNotAudio", err)
		}
	})
}
