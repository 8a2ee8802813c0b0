// The figures page: four Chart.js charts drawn from the page's JSON data block, redrawn
// from /figures/data when another period is chosen.
"use strict";
(function () {
  var text = document.getElementById("figures-text").dataset;
  var charts = {};
  var colours = { bot: "#4C78A8", escalated: "#F58518", resolved: "#54A24B", wait: "#B279A2" };

  function say(template, values) {
    return template.replace(/\{(\w+)(?::[^}]*)?\}/g, function (all, key) {
      return key in values ? String(values[key]) : all;
    });
  }
  function hours(n) { return n === null ? "–" : n.toFixed(1); }

  function summary(f) {
    var lines = [
      say(text.open, { open: f.open, new: f.by_state.new || 0, claimed: f.by_state.claimed || 0, pending: f.by_state.pending || 0 }),
      f.first_reply_median === null ? say(text.noReplies, { days: f.days })
        : say(text.firstReply, { days: f.days, median: hours(f.first_reply_median), p90: hours(f.first_reply_p90) }),
      f.bot_share === null ? say(text.noQuestions, { days: f.days })
        : say(text.botShare, { days: f.days, share: Math.round(f.bot_share * 100) + "%", bot: f.bot_total, total: f.answered_total }),
      f.rating_average === null ? say(text.noRatings, { days: f.days, asked: f.ratings_asked })
        : say(text.satisfaction, { days: f.days, average: f.rating_average.toFixed(1), asked: f.ratings_asked }),
    ];
    var list = document.getElementById("summary");
    list.replaceChildren.apply(list, lines.map(function (line) {
      var item = document.createElement("li");
      item.textContent = line;  // text, never HTML
      return item;
    }));
  }

  function draw(id, config) {
    if (charts[id]) {
      charts[id].data = config.data;
      charts[id].update();
    } else {
      config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
      charts[id] = new Chart(document.getElementById(id), config);
    }
  }

  function render(f) {
    var l = f.labels;
    summary(f);
    draw("chart-questions", {
      type: "bar",
      data: { labels: f.dates, datasets: [
        { label: l.answered_by_bot, data: f.answered_by_bot, backgroundColor: colours.bot },
        { label: l.escalated, data: f.escalated, backgroundColor: colours.escalated },
        { label: l.resolved, data: f.resolved, backgroundColor: colours.resolved },
      ] },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: l.questions } } } },
    });
    draw("chart-first-reply", {
      type: "line",
      data: { labels: f.dates, datasets: [
        { label: l.median, data: f.median_first_reply, borderColor: colours.wait, backgroundColor: colours.wait, spanGaps: true },
      ] },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: l.hours } } } },
    });
    draw("chart-ratings", {
      type: "bar",
      data: { labels: ["1", "2", "3", "4", "5"], datasets: [
        { label: text.count, data: f.ratings, backgroundColor: colours.resolved },
      ] },
      options: { plugins: { legend: { display: false } }, scales: {
        x: { title: { display: true, text: text.score } },
        y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    draw("chart-topics", {
      type: "bar",
      data: { labels: f.topics.map(function (t) { return t[0]; }), datasets: [
        { label: text.count, data: f.topics.map(function (t) { return t[1]; }), backgroundColor: colours.escalated },
      ] },
      options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    document.body.dataset.chartsDrawn = String(f.days);
  }

  // Canvas text does not wait for a web font: load the Japanese one (if the device lacks
  // its own) before the first drawing, and draw anyway if it cannot be had.
  Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
  var first = JSON.parse(document.getElementById("figures-data").textContent);
  document.fonts.load("12px IPAexGothic", "日本語").then(
    function () { render(first); }, function () { render(first); });
  document.getElementById("period").addEventListener("change", function (event) {
    var days = event.target.value;
    fetch("/figures/data?days=" + encodeURIComponent(days), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (f) {
        render(f);
        history.replaceState(null, "", "/figures?days=" + encodeURIComponent(days));
      });
  });
})();
