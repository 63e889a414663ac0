"""Exports: session notes as Markdown, text, HTML, PDF, JSON and ConnectWise notes."""
