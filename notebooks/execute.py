"""Execute one notebook with nbclient and write it, even when a cell fails.

Usage: execute.py NOTEBOOK OUTPUT KERNEL TIMEOUT

Runs the code cells in order in the notebook's folder and stops at the
first cell whose execution fails. The executed notebook (outputs up to and
including the failing cell) is written to OUTPUT either way, so that the
error the kernel printed can be read; the exit status is 0 when every cell
ran, 1 otherwise, with the failing cell's index and outputs on stderr.
(`jupyter nbconvert --execute` writes nothing when a cell fails, and tslab
reports its errors as stderr text, not as error outputs.)
"""

import os
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main(source, output, kernel, timeout):
    source = os.path.abspath(source)
    notebook = nbformat.read(source, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name=kernel,
        timeout=int(timeout),
        resources={"metadata": {"path": os.path.dirname(source) or "."}},
    )
    failed = None
    try:
        client.execute()
    except CellExecutionError as error:
        failed = error
    nbformat.write(notebook, output)
    if failed is None:
        return 0
    for index, cell in enumerate(notebook.cells):
        outputs = cell.get("outputs", [])
        texts = [
            o.get("text", "") for o in outputs if o.get("name") == "stderr"
        ]
        if any(texts):
            print(f"cell {index} wrote on stderr:", file=sys.stderr)
            print("".join(texts)[-3000:], file=sys.stderr)
    print(str(failed)[:2000], file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
