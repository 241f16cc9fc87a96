## Progress picture (/stats)
stats-picture-caption = Your progress: scores by date (colour: scenario, point shape: level) and the latest score per criterion. The red line is the pass mark, { $pass }.
stats-chart-title = Scores by training
stats-chart-criteria = Latest score per criterion
stats-chart-date = Date
stats-chart-score = Score
stats-chart-scenario = Scenario
stats-chart-level = Level
stats-chart-pass = Pass mark
stats-criteria-title = Latest score per criterion (pass mark { $pass }):
stats-criterion-passed = ✅ { $title }: { $score }
stats-criterion-below = ⚠️ { $title }: { $score } — below the pass mark
