set terminal pngcairo size 900,480
set output 'debate.png'
set title 'alloc + free cycle per folio, by placement of the prepare step'
set ylabel 'instructions per folio (log)'
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top left
set xtics nomirror
plot 'debate.dat' using 2:xtic(1) title 'order 0', '' using 3 title 'order 4', '' using 4 title 'order 9'
