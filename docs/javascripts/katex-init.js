// Typeset the maths that pymdownx.arithmatex (generic mode) leaves as \( ... \) and \[ ... \]
// inside <span|div class="arithmatex">, with the KaTeX copy shipped in docs/javascripts/katex/.
// document$ is MkDocs Material's page observable (also fires after instant navigation).
document$.subscribe(({ body }) => {
  body.querySelectorAll(".arithmatex").forEach((el) => {
    renderMathInElement(el, {
      delimiters: [
        { left: "\\(", right: "\\)", display: false },
        { left: "\\[", right: "\\]", display: true },
      ],
      throwOnError: false,
    });
  });
});
