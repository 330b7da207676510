"""What the answers become: coordinator digests, panel packs and the learning-outcome report.

Each report is built from storage as plain data (`build_*`), then laid out once as a neutral
document (`bot.reports.document`) and rendered as plain text, Markdown or one self-contained
HTML file, in the reader's language.
"""
