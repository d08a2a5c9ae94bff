/* Draws the run report from the facts in #run-data (the same facts as the
   JSON file beside the page): the numbers, a timeline in SVG with one lane
   per place a step ran, and a table of the steps.  No network, no
   libraries.  When done, <html> gets the attribute data-report-drawn, the
   number of step bars drawn. */
(function () {
  'use strict';
  var SVG = 'http://www.w3.org/2000/svg';
  var PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2',
                 '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
  // Each lane: the step bars on top, what they waited for in a strip below.
  var LABEL_WIDTH = 300, PLOT_WIDTH = 800, LANE = 26, BAR = 15, STRIP = 5;
  var AXIS = 28;
  var run = JSON.parse(document.getElementById('run-data').textContent);

  function seconds(value) {
    return value === null || value === undefined ? '\u2013'
      : value.toFixed(value < 10 ? 2 : 1) + ' s';
  }
  function percent(share) { return Math.round(share * 100) + '%'; }
  function plural(count, noun) {
    return count + ' ' + noun + (count === 1 ? '' : 's');
  }
  function element(name, attributes, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) {
      node.setAttribute(key, attributes[key]);
    });
    if (parent) { parent.appendChild(node); }
    return node;
  }
  function cell(row, text, className) {
    var td = row.insertCell();
    td.textContent = text;
    if (className) { td.className = className; }
    return td;
  }

  var colours = {};
  run.steps.forEach(function (step) {
    if (!(step.action in colours)) {
      colours[step.action] =
        PALETTE[Object.keys(colours).length % PALETTE.length];
    }
  });

  function drawNumbers() {
    document.documentElement.className = 'outcome-' + run.outcome;
    document.getElementById('headline').textContent = run.headline;
    var p = run.parallelism, table = document.getElementById('number-table');
    var capacity = p.capacity === null ? 'as many as Parsl starts'
      : String(p.capacity);
    [['Wall time', seconds(run.wall_seconds),
      'From starting Parsl to the end of the run.'],
     ["Steps' own time", seconds(run.step_seconds),
      'The time of every step added up.'],
     ['Parallelism', p.achieved + ' on average, ' + p.peak + ' at most; '
      + 'configured: ' + capacity, p.advice],
     ['Critical path', seconds(run.critical_path.seconds) + ', '
      + plural(run.critical_path.steps.length, 'step'),
      run.critical_path.advice],
     ['Start-up', seconds(run.startup.seconds) + ' ('
      + percent(run.startup.share) + ')', run.startup.advice],
     ['Waiting for workers', seconds(run.waiting_for_workers.seconds) + ' ('
      + percent(run.waiting_for_workers.share) + ')',
      run.waiting_for_workers.advice],
     ['Steps on the main process', seconds(run.steps_on_main_process.seconds)
      + ' (' + percent(run.steps_on_main_process.share) + ')',
      run.steps_on_main_process.advice]
    ].forEach(function (line) {
      var row = table.insertRow();
      cell(row, line[0]);
      cell(row, line[1], 'value');
      cell(row, line[2], 'advice');
    });
  }

  function drawLegend() {
    var legend = document.getElementById('legend');
    var keys = Object.keys(colours).map(function (action) {
      return [colours[action], action];
    }).concat([['#d9d9d9', 'waiting for a worker'],
               ['repeating-linear-gradient(45deg,#ccc 0 2px,#fff 2px 5px)',
                'start-up'],
               ['#fff', '- - waiting for inputs'],
               ['#fff', '\u2715 failed, \u21bb retried']]);
    keys.forEach(function (key) {
      var span = document.createElement('span'), swatch;
      swatch = document.createElement('i');
      swatch.style.background = key[0];
      span.appendChild(swatch);
      span.appendChild(document.createTextNode(key[1]));
      legend.appendChild(span);
    });
  }

  function stepText(step, lane) {
    var lines = [step.name + '  (' + step.state
                 + (step.retries ? ', retried '
                    + plural(step.retries, 'time') : '')
                 + ')',
                 'executor ' + step.executor + ', ' + lane.title
                 + (step.pid ? ' (pid ' + step.pid + ')' : ''),
                 'submitted at ' + seconds(step.invoked)
                 + ', inputs ready at ' + seconds(step.ready)
                 + ', launched at ' + seconds(step.launched),
                 'ran ' + seconds(step.started) + ' \u2192 '
                 + seconds(step.ended)
                 + (step.started !== null && step.ended !== null
                    ? ' (' + seconds(step.ended - step.started) + ')' : '')];
    if (step.stopped_while_running) {
      lines.push('still running when the run stopped');
    }
    return lines.join('\n');
  }

  function drawTimeline() {
    var lanes = run.lanes, end = Math.max(run.wall_seconds, 0.001);
    var height = AXIS + lanes.length * LANE + 6;
    var svg = element('svg', {width: LABEL_WIDTH + PLOT_WIDTH + 20,
                              height: height, role: 'img',
                              'aria-label': 'timeline of the run'});
    var defs = element('defs', {}, svg);
    var hatch = element('pattern', {id: 'hatch', width: 5, height: 5,
                                    patternUnits: 'userSpaceOnUse',
                                    patternTransform: 'rotate(45)'}, defs);
    element('rect', {width: 5, height: 5, fill: '#fff'}, hatch);
    element('rect', {width: 2, height: 5, fill: '#ccc'}, hatch);
    function x(value) {
      return LABEL_WIDTH + Math.max(0, Math.min(value, end)) / end
        * PLOT_WIDTH;
    }
    var axis = element('g', {'class': 'axis'}, svg), step = niceStep(end);
    for (var t = 0; t <= end + 1e-9; t += step) {
      element('line', {x1: x(t), x2: x(t), y1: AXIS - 6, y2: height},
              axis);
      element('text', {x: x(t), y: AXIS - 10, 'text-anchor': 'middle'},
              axis).textContent =
        t.toFixed(step < 0.1 ? 2 : (step < 1 ? 1 : 0)) + ' s';
    }
    var byId = {}, rows = element('g', {'class': 'lanes'}, svg);
    lanes.forEach(function (lane, row) {
      var y = AXIS + row * LANE;
      var g = element('g', {'class': 'lane lane-' + lane.kind,
                            'data-lane': lane.id}, rows);
      byId[lane.id] = {lane: lane, g: g, y: y};
      element('rect', {'class': 'lane-bg', x: 0, y: y,
                       width: LABEL_WIDTH + PLOT_WIDTH, height: LANE - 2}, g);
      element('text', {'class': 'lane-label', x: 4, y: y + LANE / 2 + 3},
              g).textContent = lane.title;
      if (lane.ready !== null && lane.ready > 0) {
        var startup = element('rect', {'class': 'startup', x: x(0),
                                       y: y + 2, width: x(lane.ready) - x(0),
                                       height: BAR}, g);
        element('title', {}, startup).textContent =
          'start-up: ' + lane.title
          + (lane.started !== null ? ': process started at '
             + seconds(lane.started) + ',' : '')
          + ' ready for steps at ' + seconds(lane.ready);
      }
    });
    var drawn = 0, details = document.getElementById('details');
    run.steps.forEach(function (step) {
      var place = byId[step.lane], y = place.y + 2, strip = y + BAR + 1;
      var g = place.g, text = stepText(step, place.lane);
      if (step.invoked !== null && step.ready !== null
          && step.ready > step.invoked) {
        element('title', {}, element('line', {
          'class': 'wait-inputs', x1: x(step.invoked), x2: x(step.ready),
          y1: strip + STRIP / 2, y2: strip + STRIP / 2}, g)
        ).textContent = step.name + ': waiting for its inputs';
      }
      if (step.launched !== null && step.started !== null
          && step.started > step.launched) {
        element('title', {}, element('rect', {
          'class': 'wait-worker', x: x(step.launched), y: strip,
          width: x(step.started) - x(step.launched), height: STRIP}, g)
        ).textContent = step.name + ': waiting for a worker';
      }
      var from = step.started !== null ? step.started
        : (step.launched !== null ? step.launched : step.invoked);
      var to = step.ended !== null ? step.ended
        : (step.returned !== null ? step.returned
           : (step.state === 'running' ? end : from));
      var classes = ['bar', 'state-' + step.state.replace(' ', '-')];
      if (step.state === 'failed') { classes.push('failed'); }
      if (step.state === 'input failed' || step.state === 'waiting') {
        classes.push('not-run');
      }
      if (step.state === 'running') { classes.push('running'); }
      if (step.state === 'reused') { classes.push('reused'); }
      var bar = element('rect', {
        'class': classes.join(' '), 'data-step': step.id,
        'data-action': step.action, x: x(from), y: y,
        width: Math.max(x(to) - x(from), 2), height: BAR,
        fill: colours[step.action]}, g);
      element('title', {}, bar).textContent = text;
      bar.addEventListener('click', function () {
        var selected = document.querySelector('.bar.selected');
        if (selected) { selected.classList.remove('selected'); }
        bar.classList.add('selected');
        details.textContent = text;
      });
      var marks = (step.state === 'failed' ? '\u2715' : '')
        + (step.retries ? '\u21bb' : '');
      if (marks) {
        element('text', {'class': 'mark', x: x(to) + 3, y: y + BAR - 2},
                g).textContent = marks;
      }
      drawn += 1;
    });
    if (run.parsl_ready !== null) {
      element('title', {}, element('line', {
        'class': 'ready-line', x1: x(run.parsl_ready), x2: x(run.parsl_ready),
        y1: AXIS - 4, y2: height}, svg)).textContent =
        'Parsl ready at ' + seconds(run.parsl_ready);
    }
    if (run.outcome !== 'succeeded') {
      element('title', {}, element('line', {
        'class': 'end-line', x1: x(end), x2: x(end), y1: AXIS - 4,
        y2: height}, svg)).textContent = 'the run ' + run.outcome + ' here';
    }
    document.getElementById('timeline').appendChild(svg);
    return drawn;
  }

  function niceStep(end) {
    var rough = end / 8, power = Math.pow(10, Math.floor(Math.log10(rough)));
    var best = power;
    [1, 2, 5, 10].forEach(function (factor) {
      if (factor * power <= rough * 1.5) { best = factor * power; }
    });
    return best;
  }

  function drawSteps() {
    var table = document.getElementById('steps');
    var head = table.createTHead().insertRow();
    ['#', 'step', 'executor', 'where', 'state', 'submitted', 'waited for inputs',
     'waited for a worker', 'ran', 'ended'].forEach(function (name) {
      var th = document.createElement('th');
      th.textContent = name;
      head.appendChild(th);
    });
    var body = table.createTBody(), lanes = {};
    run.lanes.forEach(function (lane) { lanes[lane.id] = lane; });
    function span(from, to) {
      return from === null || to === null ? null : to - from;
    }
    run.steps.forEach(function (step) {
      var row = body.insertRow();
      row.setAttribute('data-step', step.id);
      cell(row, String(step.id), 'num');
      cell(row, step.name);
      cell(row, step.executor);
      cell(row, lanes[step.lane].title);
      cell(row, step.state + (step.retries ? ' (retried)' : ''));
      cell(row, seconds(step.invoked), 'num');
      cell(row, seconds(span(step.invoked, step.ready)), 'num');
      cell(row, seconds(span(step.launched, step.started)), 'num');
      cell(row, seconds(span(step.started, step.ended)), 'num');
      cell(row, seconds(step.ended), 'num');
    });
  }

  drawNumbers();
  drawLegend();
  var bars = drawTimeline();
  drawSteps();
  document.documentElement.setAttribute('data-report-drawn', String(bars));
}());
