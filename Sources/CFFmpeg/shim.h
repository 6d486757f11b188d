// The FFmpeg headers Unmask uses, plus the macros Swift cannot import, as static inline functions.
#ifndef UNMASK_CFFMPEG_SHIM_H
#define UNMASK_CFFMPEG_SHIM_H

#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libavutil/avutil.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>

static inline int unmask_averror(int posixError) { return AVERROR(posixError); }
static inline int unmask_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int unmask_averror_eof(void) { return AVERROR_EOF; }
static inline int unmask_averror_enomem(void) { return AVERROR(ENOMEM); }
static inline int unmask_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int unmask_averror_stream_not_found(void) { return AVERROR_STREAM_NOT_FOUND; }
static inline int unmask_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
static inline int unmask_averror_encoder_not_found(void) { return AVERROR_ENCODER_NOT_FOUND; }
static inline int unmask_averror_demuxer_not_found(void) { return AVERROR_DEMUXER_NOT_FOUND; }
static inline int unmask_averror_muxer_not_found(void) { return AVERROR_MUXER_NOT_FOUND; }
static inline int unmask_averror_eio(void) { return AVERROR(EIO); }
static inline int unmask_averror_einval(void) { return AVERROR(EINVAL); }
static inline int unmask_averror_enoent(void) { return AVERROR(ENOENT); }
static inline int unmask_averror_eacces(void) { return AVERROR(EACCES); }
static inline int64_t unmask_av_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int unmask_av_time_base(void) { return AV_TIME_BASE; }

/// FFmpeg's message for an error code, written into `buffer` (at least AV_ERROR_MAX_STRING_SIZE bytes).
static inline const char *unmask_av_err2str(int code, char *buffer, size_t size) {
    av_strerror(code, buffer, size);
    return buffer;
}

#endif
