"""User-facing errors: the CLI prints them as one line and exits with code 2."""


class SpinedetError(Exception):
    """A problem with the user's input or request, reported as one line without a traceback."""


class InputError(SpinedetError):
    """A problem with one input file or folder: the message names the path and the problem."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = " ".join(str(problem).split())  # one line, whatever a library's message held
        super().__init__(f"{self.path}: {problem}")
