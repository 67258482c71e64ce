"""The audio library: MP3 files uploaded once, checked to be MP3 audio, kept on disk and served
to the providers at a URL each of them accepts."""
