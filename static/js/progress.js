// Sizes each job's progress bar from its data-percent (the page holds no style attribute:
// the Content Security Policy refuses inline style; setting a style from a script is allowed).
"use strict";
document.querySelectorAll(".progress-bar[data-percent]").forEach((bar) => {
  const percent = Math.max(0, Math.min(100, Number(bar.dataset.percent) || 0));
  bar.style.width = `${percent}%`;
});
