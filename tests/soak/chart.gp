# The soak chart (docs/soak.png): the server's resident memory and open file
# descriptors over the run, from tests/soak/soak.mjs's samples.csv.
#   gnuplot -e "csv='build/soak/samples.csv'; png='docs/soak.png'" tests/soak/chart.gp
# Columns: elapsed_s,phase,restarts,rss_kib,vsz_kib,fds,threads,cpu_s,...
# Samples of the chaos phase (a fresh process after every kill) are drawn
# apart from those of the soak.
set datafile separator ','
set terminal pngcairo size 1000,450 font 'sans,10'
set output png
set title 'conclave soak: server memory and open file descriptors, sampled every 10 s'
set xlabel 'minutes'
set ylabel 'resident memory (MiB)'
set y2label 'open file descriptors'
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set key bottom right box opaque
set grid
soak(x) = strcol(2) eq 'soak' ? x : 1/0
chaos(x) = strcol(2) eq 'chaos' ? x : 1/0
plot csv every ::1 using ($1/60):(soak($4/1024)) with linespoints pt 7 ps 0.3 lw 2 lc rgb '#1f77b4' title 'RSS (MiB)', \
     csv every ::1 using ($1/60):(chaos($4/1024)) with points pt 6 ps 0.8 lc rgb '#1f77b4' title 'RSS after kill -9 and restart', \
     csv every ::1 using ($1/60):(soak($6)) axes x1y2 with linespoints pt 5 ps 0.3 lw 1 lc rgb '#d62728' title 'open fds', \
     csv every ::1 using ($1/60):(chaos($6)) axes x1y2 with points pt 4 ps 0.8 lc rgb '#d62728' title 'open fds after restart'
