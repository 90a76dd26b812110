# bench/report.py's chart: gnuplot -e "set terminal pngcairo; set output 'm.png'" matrix.gp
set datafile missing "NaN"
set logscale x 2
set xrange [0.03125:32]
set xtics ("1/32" 0.03125, "1/16" 0.0625, "1/8" 0.125, "1/4" 0.25, "1/2" 0.5, "1" 1, "2" 2, "4" 4, "8" 8, "16" 16, "32" 32)
set grid xtics
set yrange [79.700000:-0.7]
set ytics nomirror font ",9"
set key top right box opaque
set xlabel "parc's ops/s over the best peer's at each point (median over the runs; above 1 parc is faster)"
set title "parc against the best peer, every point of every family (left of 1: parc is slower)"
set arrow from 1, graph 0 to 1, graph 1 nohead lw 2 lc rgb "black"
set arrow from graph 0, first 11.5 to graph 1, first 11.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 25.5 to graph 1, first 25.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 28.5 to graph 1, first 28.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 29.5 to graph 1, first 29.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 30.5 to graph 1, first 30.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 31.5 to graph 1, first 31.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 32.5 to graph 1, first 32.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 33.5 to graph 1, first 33.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 37.5 to graph 1, first 37.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 41.5 to graph 1, first 41.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 45.5 to graph 1, first 45.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 49.5 to graph 1, first 49.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 50.5 to graph 1, first 50.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 52.5 to graph 1, first 52.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 53.5 to graph 1, first 53.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 62.5 to graph 1, first 62.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 63.5 to graph 1, first 63.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 64.5 to graph 1, first 64.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 70.5 to graph 1, first 70.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 71.5 to graph 1, first 71.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 72.5 to graph 1, first 72.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 73.5 to graph 1, first 73.5 nohead lc rgb '#bbbbbb' dt 2
set arrow from graph 0, first 76.5 to graph 1, first 76.5 nohead lc rgb '#bbbbbb' dt 2
set style fill solid 0.8 noborder
lo(r) = r < 1 ? r : 1
hi(r) = r < 1 ? 1 : r
plot "matrix.dat" using 3:($1-0.2):(lo($3)):(hi($3)):($1-0.38):($1-0.02):ytic(2) \
        with boxxyerror lc rgb "#4477aa" title "unpinned", \
     "" using 7:($1+0.2):(lo($7)):(hi($7)):($1+0.02):($1+0.38) \
        with boxxyerror lc rgb "#ee6677" title "pinned", \
     "" using 4:($1-0.2):(strcol(6)." ") with labels right font ",7" notitle, \
     "" using 5:($1-0.2):(" ".strcol(6)) with labels left font ",7" notitle, \
     "" using 8:($1+0.2):(strcol(10)." ") with labels right font ",7" notitle, \
     "" using 9:($1+0.2):(" ".strcol(10)) with labels left font ",7" notitle
