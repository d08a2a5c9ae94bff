"""The report as one self-contained HTML page: the run's facts embedded as
JSON, drawn by inline JavaScript into SVG; no network, fonts or files
besides the page, so it opens from a cluster's shared folder anywhere."""
import json
import os

TEMPLATES = os.path.join(os.path.dirname(__file__), 'templates')


def _template(name):
    with open(os.path.join(TEMPLATES, name), encoding='utf-8') as fh:
        return fh.read()


def html_page(facts):
    """The page for ``facts`` (``summary.run_facts``)."""
    # '<' escaped, so that no text in the facts can end the script element.
    data = json.dumps(facts).replace('<', '\\u003c')
    title = {'succeeded': 'Parallel run report',
             'failed': 'Parallel run report: failed',
             'interrupted': 'Parallel run report: interrupted'}[
                 facts['outcome']]
    page = _template('report.html')
    for name, value in (('title', title), ('style', _template('report.css')),
                        ('script', _template('report.js')), ('data', data)):
        page = page.replace('{{%s}}' % name, value)
    return page
